package dev.lbrvmm.vmm.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The sampling guest against the interpreter's own trace, and the report against the program's structure. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SamplingGuestTest {
    SamplingGuestRun run;
    List<Sample> samples;
    ProgramImage program;

    @BeforeAll
    void runTheGuest(@TempDir Path dir) throws Exception {
        run = new SamplingGuestRun(dir, 32, false);
        samples = run.read();
        program = ProgramImage.load(SamplingGuestRun.PROGRAM);
    }

    @Test
    void oneSamplePerPmiAndEachIsTheTrueTraceSuffix() {
        assertThat(samples).hasSize(run.expectedAtPmi.size());
        // 10,000 branch instructions (taken or not) between PMIs; the trace holds the taken ones, and
        // this program's not-taken branches (fib's jb in non-leaves, op_loop's jz) are fewer than those
        assertThat((long) samples.size()).isBetween(run.branches / 10_000, 2 * run.branches / 10_000);
        for (int i = 0; i < samples.size(); i++) {
            Sample s = samples.get(i);
            long[][] expected = run.expectedAtPmi.get(i);
            assertThat(s.seq()).isEqualTo(i + 1);
            assertThat(s.branches()).as("sample %d", i + 1).hasSize(32);
            for (int k = 0; k < 32; k++) {
                LbrSnapshot.Entry e = s.branches().get(k);
                assertThat(new long[] {e.from(), e.to()}).as("sample %d record %d", i + 1, k).containsExactly(expected[k]);
            }
            // KVM froze the LBR before the PMI (FREEZE_LBRS_ON_PMI on its version-2 vPMU, intel_pmu_legacy_freezing_lbrs_on_pmi): no record of it
            assertThat(s.branches()).noneMatch(e -> e.to() == program.address("pmi_handler"));
        }
    }

    /** Without FREEZE_LBRS_ON_PMI (DEBUGCTL = 1) the interrupt is recorded: it is the newest record, FROM = the interrupted RIP. */
    @Test
    void withoutTheFreezeThePmiIsTheNewestRecord(@TempDir Path dir) throws Exception {
        SamplingGuestRun nofreeze = new SamplingGuestRun(dir, 32, true, "guest.program.args=[\"10000\", \"1\"]");
        List<Sample> got = nofreeze.read();
        assertThat(got).hasSize(nofreeze.expectedAtPmi.size()).hasSizeGreaterThan(50);
        for (int i = 0; i < got.size(); i++) {
            Sample s = got.get(i);
            for (int k = 0; k < 32; k++) {
                LbrSnapshot.Entry e = s.branches().get(k);
                assertThat(new long[] {e.from(), e.to()}).as("sample %d record %d", i + 1, k)
                        .containsExactly(nofreeze.expectedAtPmi.get(i)[k]);
            }
            assertThat(s.branches().get(0).from()).isEqualTo(s.ip());
            assertThat(s.branches().get(0).to()).isEqualTo(program.address("pmi_handler"));
        }
        // the report leaves the PMI's own record out of the call stacks
        FoldedStacks folded = new FoldedStacks(program);
        got.forEach(folded::add);
        assertThat(folded.counts().keySet()).noneMatch(k -> k.contains("pmi_handler"));
    }

    /**
     * Haswell (format 4, 16 entries, no LBR_INFO): KVM's freeze emulation clears DEBUGCTL.LBR
     * before the PMI, the interrupt is not recorded and the 16-entry stack ends with the last
     * branch before it; the handler finds LBR already off and sets it again.
     */
    @Test
    void onHaswellKvmFreezesTheSixteenEntryLbrBeforeThePmi(@TempDir Path dir) throws Exception {
        SamplingGuestRun haswell = new SamplingGuestRun(dir, 16, false, "guest.cpu.model=haswell", "host.cpu-model=haswell");
        List<Sample> got = haswell.read();
        assertThat(got).hasSize(haswell.expectedAtPmi.size()).hasSizeGreaterThan(50);
        long handler = program.address("pmi_handler");
        for (int i = 0; i < got.size(); i++) {
            Sample s = got.get(i);
            assertThat(s.branches()).as("sample %d", i + 1).hasSize(16);
            for (int k = 0; k < 16; k++) {
                LbrSnapshot.Entry e = s.branches().get(k);
                assertThat(new long[] {e.from(), e.to()}).as("sample %d record %d", i + 1, k)
                        .containsExactly(haswell.expectedAtPmi.get(i)[k]);
                assertThat(e.to()).isNotEqualTo(handler);
                assertThat(e.cycles()).as("format 4 records no cycles").isNull();
            }
            assertThat(program.function(s.ip())).as("sampled address of sample %d", i + 1).doesNotStartWith("0x");
        }
    }

    /**
     * LBR_SELECT = 0x3c4 (perf's call-stack mode: only calls and returns, returns pop): every
     * sample is exactly the chain of calls open at the PMI, and the folded stacks are complete,
     * rooted at _start, with as many fib frames as the recursion was deep.
     */
    @Test
    void inCallStackModeEverySampleIsTheOpenCallChain(@TempDir Path dir) throws Exception {
        SamplingGuestRun cs = new SamplingGuestRun(dir, 32, false, "guest.program.args=[\"10000\", \"0x801\", \"1\", \"0x3c4\"]");
        List<Sample> got = cs.read();
        assertThat(got).hasSize(cs.openCallsAtPmi.size()).hasSizeGreaterThan(50);
        FoldedStacks folded = new FoldedStacks(program);
        for (int i = 0; i < got.size(); i++) {
            Sample s = got.get(i);
            assertThat(s.callStack()).isTrue();
            long[][] open = cs.openCallsAtPmi.get(i);
            assertThat(s.branches()).as("sample %d", i + 1).hasSize(open.length);
            for (int k = 0; k < open.length; k++) {
                LbrSnapshot.Entry e = s.branches().get(k);
                assertThat(new long[] {e.from(), e.to()}).as("sample %d call %d", i + 1, k).containsExactly(open[k]);
            }
            List<String> stack = folded.stackOf(s);
            assertThat(stack.get(0)).isEqualTo("_start");
            assertThat(stack.size()).isEqualTo(open.length + 1);
            folded.add(s);
        }
        assertThat(folded.counts().keySet()).allMatch(k -> k.startsWith("_start;"))
                .anyMatch(k -> k.startsWith("_start;fib;fib;fib;fib;fib;fib;fib;fib;fib;fib"))
                .anyMatch(k -> k.equals("_start;op_call;mix_rot"));
    }

    /** The guest's text form carries the same samples as its binary stream (the run is deterministic). */
    @Test
    void textModeSendsTheSameSamples(@TempDir Path dir) throws Exception {
        SamplingGuestRun text = new SamplingGuestRun(dir, 32, true, "guest.program.args=[\"10000\", \"0x801\", \"1\", \"0\", \"1\"]");
        List<Sample> got = new java.util.ArrayList<>();
        SampleReader.Source src = SampleReader.read(text.samples, got::add, b -> { });
        assertThat(src.kind()).isEqualTo("lbr_sample text stream");
        assertThat(got).hasSize(samples.size());
        for (int i = 0; i < got.size(); i++) {
            assertThat(got.get(i).ip()).isEqualTo(samples.get(i).ip());
            assertThat(got.get(i).branches()).as("sample %d", i + 1).isEqualTo(samples.get(i).branches());
        }
    }

    @Test
    void onFibTheHottestBranchesAreItsTwoCallsAndTheBaseCaseJump() {
        BranchTable table = new BranchTable();
        samples.stream().filter(s -> program.function(s.ip()).equals("fib")).forEach(table::add);
        List<BranchTable.Row> rows = table.rows();
        // fib(n): every non-leaf call makes two calls (fib+0xc, fib+0x19 -> fib), every leaf takes the
        // jb to the base case: each about 1/5 of fib's branches; each of the four returns (leaf or not,
        // to either call site) about 1/10, the PMI's own records fewer still.
        long fib = program.address("fib");
        Set<String> top3 = rows.subList(0, 3).stream().map(r -> program.describe(r.from()) + ">" + program.describe(r.to()))
                .collect(Collectors.toSet());
        assertThat(top3).containsExactlyInAnyOrder("fib+0xc>fib", "fib+0x19>fib", "fib+0x4>fib+0x23");
        assertThat(rows.get(0).to() == fib || rows.get(0).from() == fib + 4).isTrue();
        for (BranchTable.Row r : rows.subList(0, 3)) {
            assertThat((double) r.count() / table.records()).isBetween(0.15, 0.25);
        }
        assertThat((double) rows.get(3).count() / table.records()).isLessThan(0.15);
        // the hottest target is fib itself, reached from both call sites
        Map<Long, Long> byTarget = rows.stream().collect(Collectors.groupingBy(BranchTable.Row::to,
                Collectors.summingLong(BranchTable.Row::count)));
        long hottestTarget = byTarget.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        assertThat(hottestTarget).isEqualTo(fib);
    }

    @Test
    void onTheDispatcherTheHottestPairIsTheCallOpcodeAndItsJumpBack() {
        BranchTable table = new BranchTable();
        Set<String> dispatcher = Set.of("dispatch", "op_inc", "op_add", "op_xor", "op_loop", "op_call", "mix5", "mix_shift", "mix_rot");
        samples.stream().filter(s -> dispatcher.contains(program.function(s.ip()))).forEach(table::add);
        // per round: 8 indirect dispatches + 8 jumps back + 3 calls + 3 returns; 3 of each pair go to/from op_call
        Set<String> top2 = table.rows().subList(0, 2).stream().map(r -> program.function(r.from()) + ">" + program.function(r.to()))
                .collect(Collectors.toSet());
        assertThat(top2).containsExactlyInAnyOrder("dispatch>op_call", "op_call>dispatch");
        BranchTable.Row indirect = table.rows().stream().filter(r -> program.function(r.to()).equals("op_call")
                && program.function(r.from()).equals("dispatch")).findFirst().orElseThrow();
        // the indirect jump's target changes every time: the last-target BTB always mispredicts it
        assertThat(indirect.mispredictRate()).isEqualTo(1.0);
    }

    @Test
    void htmlReportIsWellFormedXhtmlWithTheFunctionsInItsFlameGraphAndChart() throws Exception {
        FoldedStacks stacks = new FoldedStacks(program);
        BranchTable table = new BranchTable();
        samples.forEach(s -> {
            stacks.add(s);
            table.add(s);
        });
        String html = FlameGraphHtml.render("lbr_sample <test> & co", List.of("91 samples"), stacks, table, program);
        javax.xml.parsers.DocumentBuilderFactory f = javax.xml.parsers.DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        org.w3c.dom.Document doc = f.newDocumentBuilder().parse(new org.xml.sax.InputSource(new java.io.StringReader(html)));
        javax.xml.xpath.XPath xp = javax.xml.xpath.XPathFactory.newInstance().newXPath();
        xp.setNamespaceContext(new javax.xml.namespace.NamespaceContext() {
            public String getNamespaceURI(String p) {
                return p.equals("s") ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml";
            }

            public String getPrefix(String u) {
                return null;
            }

            public java.util.Iterator<String> getPrefixes(String u) {
                return null;
            }
        });
        assertThat(xp.evaluate("/h:html/h:head/h:title", doc)).isEqualTo("lbr_sample <test> & co");
        org.w3c.dom.NodeList frames = (org.w3c.dom.NodeList) xp.evaluate("//s:svg[@class='flamegraph']/s:g/s:title",
                doc, javax.xml.xpath.XPathConstants.NODESET);
        java.util.List<String> names = new java.util.ArrayList<>();
        for (int i = 0; i < frames.getLength(); i++) {
            names.add(frames.item(i).getTextContent());
        }
        assertThat(names).anyMatch(n -> n.startsWith("all (91 samples, 100.0%)"));
        for (String fn : List.of("fib", "dispatch", "op_call", "mix5")) {
            assertThat(names).as("flame graph frame %s", fn).anyMatch(n -> n.startsWith(fn + " ("));
        }
        // the fib frames at the bottom hold the fib samples: width proportional to their count
        double all = Double.parseDouble(xp.evaluate("//s:svg[@class='flamegraph']/s:g[1]/s:rect/@width", doc));
        assertThat(all).isGreaterThan(1000);
        String chart = xp.evaluate("string(//s:svg[@class='hotness'])", doc);
        assertThat(chart).contains("fib+0xc -> fib").contains("dispatch+0x8 -> op_call");
        assertThat(((Number) xp.evaluate("count(//h:table/h:tr)", doc, javax.xml.xpath.XPathConstants.NUMBER)).intValue())
                .isEqualTo(1 + Math.min(50, table.rows().size()));
        // self-contained: nothing fetched (the only URLs are the XML namespaces)
        assertThat(html).doesNotContain("src=").doesNotContain("href=").doesNotContain("@import").doesNotContain("url(");
        assertThat(html.replace("http://www.w3.org/1999/xhtml", "").replace("http://www.w3.org/2000/svg", "")).doesNotContain("http");
        // every frame carries what the zoom script needs
        org.w3c.dom.NodeList g = (org.w3c.dom.NodeList) xp.evaluate("//s:svg[@class='flamegraph']/s:g", doc, javax.xml.xpath.XPathConstants.NODESET);
        for (int i = 0; i < g.getLength(); i++) {
            org.w3c.dom.Element e = (org.w3c.dom.Element) g.item(i);
            assertThat(e.getAttribute("data-name")).isNotEmpty();
            assertThat(Double.parseDouble(e.getAttribute("data-w"))).isPositive();
        }
    }

    @Test
    void foldedStacksNameTheRecursionAndTheDispatcherCalls() {
        FoldedStacks stacks = new FoldedStacks(program);
        samples.forEach(stacks::add);
        Map<String, Long> c = stacks.counts();
        assertThat(c.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(samples.size());
        assertThat(c.keySet()).allMatch(k -> !k.contains("pmi_handler"));
        // deep recursion: some stacks hold several fib frames; the dispatcher's calls show their callee
        assertThat(c.keySet()).as("every sample filled the LBR: its outer frames may be gone").allMatch(k -> k.startsWith("[truncated];"));
        assertThat(c.keySet()).anyMatch(k -> k.startsWith("[truncated];fib;fib;fib"));
        assertThat(c.keySet()).anyMatch(k -> k.matches("\\[truncated\\];op_call;(mix5|mix_shift|mix_rot)"));
    }
}
