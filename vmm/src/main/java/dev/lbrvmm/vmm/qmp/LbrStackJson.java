package dev.lbrvmm.vmm.qmp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lbrvmm.vmm.cpu.LbrSnapshot;
import dev.lbrvmm.vmm.kvm.Vcpu;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * LBR stacks as JSON, the one shape used by {@code --dump-lbr} and the monitor: per vCPU its
 * index, model, format, depth, tos, debugctl, lbr_select and entries newest first with from, to
 * (JSON integers) and, where the format records them, mispredicted and cycles.
 */
public final class LbrStackJson {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private LbrStackJson() {}

    public static ObjectNode vcpu(Vcpu v) {
        ObjectNode o = JSON.createObjectNode();
        o.put("index", v.index());
        o.put("model", v.model().name());
        LbrSnapshot s = v.lbrSnapshot().orElse(null);
        o.put("format", v.model().lbrFormat());
        o.put("depth", v.model().lbrDepth());
        o.put("tos", s == null ? 0 : s.tos());
        o.put("debugctl", v.guestDebugctl());
        o.put("lbr_select", s == null ? 0 : s.lbrSelect());
        ArrayNode entries = o.putArray("entries");
        if (s != null) {
            for (LbrSnapshot.Entry e : s.entries()) {
                ObjectNode n = entries.addObject();
                n.put("from", e.from());
                n.put("to", e.to());
                if (e.mispredicted() != null) {
                    n.put("mispredicted", e.mispredicted());
                }
                if (e.cycles() != null) {
                    n.put("cycles", e.cycles());
                }
            }
        }
        return o;
    }

    public static ObjectNode dump(List<Vcpu> vcpus) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode arr = root.putArray("vcpus");
        for (Vcpu v : vcpus) {
            arr.add(vcpu(v));
        }
        return root;
    }

    public static void write(Path file, List<Vcpu> vcpus) throws IOException {
        JSON.writeValue(file.toFile(), dump(vcpus));
    }
}
