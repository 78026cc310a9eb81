package dev.lbrvmm.vmm.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sample stream reader and the LBR dump reader: good input decoded, bad input named precisely. */
class SampleFileTest {
    @TempDir
    Path dir;

    /** A stream of {@code samples} samples of 2 records each, format 5. */
    static byte[] stream(int samples) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer h = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        h.put(SampleFile.MAGIC).put((byte) 5).put((byte) 32).putShort((short) 0).putInt(10_000);
        out.writeBytes(h.array());
        for (int i = 1; i <= samples; i++) {
            ByteBuffer s = ByteBuffer.allocate(16 + 2 * 24).order(ByteOrder.LITTLE_ENDIAN);
            s.put((byte) 'S').put((byte) 2).putShort((short) 0).putInt(i).putLong(0x401000L + i);
            s.putLong(0x401100).putLong(0x401200).putLong(1L << 63 | 7); // mispredicted, 7 cycles
            s.putLong(0x401300).putLong(0x401400).putLong(3);
            out.writeBytes(s.array());
        }
        ByteBuffer t = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        t.put((byte) 'E').put((byte) 0).putShort((short) 0).putInt(samples);
        out.writeBytes(t.array());
        return out.toByteArray();
    }

    Path file(byte[] b) throws Exception {
        Path p = dir.resolve("s.bin");
        Files.write(p, b);
        return p;
    }

    List<Sample> read(byte[] b) throws Exception {
        List<Sample> out = new ArrayList<>();
        SampleFile.read(file(b), out::add, x -> { });
        return out;
    }

    @Test
    void decodesSamplesWithTheHeadersFormat() throws Exception {
        List<Sample> s = read(stream(3));
        assertThat(s).hasSize(3);
        assertThat(s.get(2).seq()).isEqualTo(3);
        assertThat(s.get(2).ip()).isEqualTo(0x401003L);
        assertThat(s.get(0).branches().get(0).from()).isEqualTo(0x401100L);
        assertThat(s.get(0).branches().get(0).to()).isEqualTo(0x401200L);
        assertThat(s.get(0).branches().get(0).mispredicted()).isTrue();
        assertThat(s.get(0).branches().get(0).cycles()).isEqualTo(7);
        assertThat(s.get(0).branches().get(1).mispredicted()).isFalse();
        assertThat(s.get(0).origin()).endsWith("s.bin sample 1");
    }

    @Test
    void truncationNamesTheOffsetAndTheSample() throws Exception {
        byte[] whole = stream(3);
        // cut inside sample 2's second record
        byte[] cut = Arrays.copyOf(whole, 16 + 64 + 16 + 24 + 10);
        assertThatThrownBy(() -> read(cut)).isInstanceOf(ReportInputException.class)
                .hasMessageContaining("s.bin: byte 0x")
                .hasMessageContaining("truncated in sample 2 record 1");
        // cut right after a sample: no trailer
        byte[] noTrailer = Arrays.copyOf(whole, 16 + 2 * 64);
        assertThatThrownBy(() -> read(noTrailer)).hasMessageContaining("byte 0x90").hasMessageContaining("after sample 2 without its trailer");
        // only part of the header
        assertThatThrownBy(() -> read(Arrays.copyOf(whole, 12))).hasMessageContaining("truncated in the file header");
    }

    @Test
    void corruptionIsNamed() throws Exception {
        byte[] b = stream(3);
        b[16 + 64] = 'X'; // sample 2's tag
        assertThatThrownBy(() -> read(b)).hasMessageContaining("byte 0x50: sample 2: expected a sample ('S') or the trailer ('E'), found byte 0x58");
        byte[] gap = stream(3);
        gap[16 + 64 + 4] = 9; // sample 2 numbered 9
        assertThatThrownBy(() -> read(gap)).hasMessageContaining("sample 2 has sequence number 9");
        byte[] tooMany = stream(1);
        tooMany[17] = 33;
        assertThatThrownBy(() -> read(tooMany)).hasMessageContaining("holds 33 records, more than the LBR depth 32");
        byte[] count = stream(2);
        count[count.length - 4] = 5;
        assertThatThrownBy(() -> read(count)).hasMessageContaining("the trailer counts 5 samples but the stream holds 2");
        byte[] magic = stream(1);
        magic[0] = 'X';
        assertThatThrownBy(() -> read(magic)).hasMessageContaining("not an lbr_sample stream");
        byte[] extra = Arrays.copyOf(stream(1), stream(1).length + 1);
        assertThatThrownBy(() -> read(extra)).hasMessageContaining("data after the trailer");
    }

    static final String TEXT = """
            LBRSMPL1 5 20 3c4 2710
            S 1 401001 2 401100/401200/8000000000000007 401300/401400/3
            S 2 401002 1 401100/401200/5
            E 2
            """;

    Path text(String t) throws Exception {
        Path p = dir.resolve("s.txt");
        Files.writeString(p, t);
        return p;
    }

    List<Sample> readText(String t) throws Exception {
        List<Sample> out = new ArrayList<>();
        SampleReader.Source src = SampleReader.read(text(t), out::add, x -> { });
        assertThat(src.kind()).isEqualTo("lbr_sample text stream");
        return out;
    }

    @Test
    void textStreamsDecodeLikeBinaryOnes() throws Exception {
        List<Sample> s = readText(TEXT);
        assertThat(s).hasSize(2);
        assertThat(s.get(0).ip()).isEqualTo(0x401001L);
        assertThat(s.get(0).callStack()).isTrue();
        assertThat(s.get(0).branches().get(0).mispredicted()).isTrue();
        assertThat(s.get(0).branches().get(0).cycles()).isEqualTo(7);
        assertThat(s.get(0).branches().get(1).to()).isEqualTo(0x401400L);
        assertThat(s.get(1).origin()).endsWith("s.txt:3 sample 2");
    }

    @Test
    void badOrTruncatedTextNamesTheLine() throws Exception {
        String noEnd = TEXT.substring(0, TEXT.indexOf("E 2"));
        assertThatThrownBy(() -> readText(noEnd)).isInstanceOf(ReportInputException.class)
                .hasMessageContaining("s.txt:3: the file ends after sample 2 without its E line");
        String cutLine = TEXT.substring(0, TEXT.indexOf(" 401300/"));
        assertThatThrownBy(() -> readText(cutLine)).hasMessageContaining("s.txt:2: sample 1 declares 2 records but the line has 1");
        assertThatThrownBy(() -> readText(TEXT.replace("401300/401400/3", "401300/40z400/3")))
                .hasMessageContaining("s.txt:2: sample 1 record 1 to: \"40z400\" is not a 64-bit hexadecimal number");
        assertThatThrownBy(() -> readText(TEXT.replace("401300/401400/3", "401300:401400")))
                .hasMessageContaining("s.txt:2: sample 1 record 1: expected from/to/info");
        assertThatThrownBy(() -> readText(TEXT.replace("S 2 ", "S 7 "))).hasMessageContaining("s.txt:3: sample 2 has number 7");
        assertThatThrownBy(() -> readText(TEXT.replace("E 2", "E 3"))).hasMessageContaining("s.txt:4: the E line counts 3 samples but the file holds 2");
        assertThatThrownBy(() -> readText(TEXT.replace("S 2 401002", "X 2 401002"))).hasMessageContaining("s.txt:3: sample 2: expected \"S seq");
        assertThatThrownBy(() -> readText(TEXT + "S 3 0 0\n")).hasMessageContaining("s.txt:5: text after the E line");
        assertThatThrownBy(() -> readText("LBRSMPL1 5 20\n")).hasMessageContaining("s.txt:1: expected the header");
        assertThatThrownBy(() -> readText("LBRSMPL1 9 20 0 1\nE 0\n")).hasMessageContaining("s.txt:1: LBR format 9 is not one of 0-7");
    }

    @Test
    void lbrDumpsAreReadAndTheirErrorsNamed() throws Exception {
        Path ok = dir.resolve("lbr.json");
        Files.writeString(ok, """
                {"vcpus": [{"index": 0, "model": "skylake-client", "format": 5, "depth": 32, "tos": 3,
                  "entries": [{"from": 4198656, "to": 4198912, "mispredicted": true, "cycles": 4},
                              {"from": 4198400, "to": 4198656, "mispredicted": false, "cycles": 1}]}]}
                """);
        List<Sample> s = new ArrayList<>();
        SampleReader.Source src = SampleReader.read(ok, s::add, b -> { });
        assertThat(src.kind()).isEqualTo("LBR dump");
        assertThat(s).hasSize(1);
        assertThat(s.get(0).ip()).isEqualTo(-1);
        assertThat(s.get(0).leafAddress()).isEqualTo(4198912);
        assertThat(s.get(0).branches()).hasSize(2);

        Path syntax = dir.resolve("bad.json");
        Files.writeString(syntax, "{\"vcpus\": [\n  {\"format\": 5,,}\n]}\n");
        assertThatThrownBy(() -> SampleReader.read(syntax, x -> { }, b -> { })).isInstanceOf(ReportInputException.class)
                .hasMessageContaining("bad.json:2:").hasMessageContaining("not valid JSON");
        Path shape = dir.resolve("shape.json");
        Files.writeString(shape, "{\"vcpus\": [{\"format\": 5, \"depth\": 32, \"entries\": [{\"from\": 1, \"to\": \"x\"}]}]}");
        assertThatThrownBy(() -> SampleReader.read(shape, x -> { }, b -> { }))
                .hasMessageContaining("shape.json: /vcpus/0/entries/0/to: expected an integer, got \"x\"");
        Path truncated = dir.resolve("cut.json");
        Files.writeString(truncated, "{\"vcpus\": [{\"format\": 5, \"depth\": 32, \"entries\": [{\"from\": 1,\n");
        assertThatThrownBy(() -> SampleReader.read(truncated, x -> { }, b -> { })).hasMessageContaining("cut.json:2:");
        assertThatThrownBy(() -> SampleReader.read(dir.resolve("missing.bin"), x -> { }, b -> { }))
                .hasMessageContaining("missing.bin: no such file");
    }
}
