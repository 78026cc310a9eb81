package dev.lbrvmm.vmm.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.lbrvmm.monitor.QmpError;
import dev.lbrvmm.vmm.cpu.Msr;
import dev.lbrvmm.vmm.kvm.KvmException;
import dev.lbrvmm.vmm.kvm.Vcpu;
import dev.lbrvmm.vmm.kvm.Vm;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * The part of QEMU's object tree lbrvmm has: {@code /machine} (with the VM's guest-LBR policy) and
 * one CPU per vCPU at {@code /machine/unattached/device[N]} with {@code pmu}, {@code lbr-fmt}
 * (alias {@code lbr_fmt}), {@code pdcm} and {@code model}. Paths may be partial if they match
 * exactly one object. Every CPU is realized, so properties are read-only, as QEMU answers for a
 * realized device (object_property_set -> "after it was realized").
 */
final class Qom {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Qom() {}

    private record Obj(String path, String type, Vcpu cpu) {}

    private static List<Obj> objects(Vm vm) {
        List<Obj> all = new ArrayList<>();
        all.add(new Obj("/", "container", null));
        all.add(new Obj("/machine", "lbrvmm-machine", null));
        all.add(new Obj("/machine/unattached", "container", null));
        for (Vcpu v : vm.vcpus()) {
            all.add(new Obj("/machine/unattached/device[" + v.index() + "]", cpuType(v), v));
        }
        return all;
    }

    private static String cpuType(Vcpu v) {
        return v.model().name() + "-x86_64-cpu";
    }

    private static Obj resolve(Vm vm, String path) throws QmpError {
        List<Obj> all = objects(vm);
        if (path.startsWith("/")) {
            String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
            for (Obj o : all) {
                if (o.path().equals(p)) {
                    return o;
                }
            }
        } else {
            List<Obj> matches = new ArrayList<>();
            for (Obj o : all) {
                if (o.path().endsWith("/" + path)) {
                    matches.add(o);
                }
            }
            if (matches.size() == 1) {
                return matches.get(0);
            }
        }
        throw new QmpError(QmpError.ErrorClass.DeviceNotFound, "Device '" + QmpError.echo(path) + "' not found");
    }

    static List<QmpReplies.ObjectPropertyInfo> list(Vm vm, String path) throws QmpError {
        Obj o = resolve(vm, path);
        List<QmpReplies.ObjectPropertyInfo> a = new ArrayList<>();
        a.add(property("type", "string"));
        switch (o.path()) {
            case "/" -> a.add(property("machine", "child<lbrvmm-machine>"));
            case "/machine" -> {
                a.add(property("unattached", "child<container>"));
                a.add(property("lbr-policy", "string"));
                a.add(property("guest-lbr", "bool"));
            }
            case "/machine/unattached" -> {
                for (Vcpu v : vm.vcpus()) {
                    a.add(property("device[" + v.index() + "]", "child<" + cpuType(v) + ">"));
                }
            }
            default -> {
                a.add(property("pmu", "bool"));
                a.add(property("lbr-fmt", "uint64"));
                a.add(property("lbr_fmt", "uint64"));
                a.add(property("pdcm", "bool"));
                a.add(property("model", "string"));
            }
        }
        return a;
    }

    private static QmpReplies.ObjectPropertyInfo property(String name, String type) {
        return new QmpReplies.ObjectPropertyInfo(name, type);
    }

    static JsonNode get(Vm vm, String path, String property) throws QmpError {
        Obj o = resolve(vm, path);
        if (property.equals("type")) {
            return NODES.textNode(o.type());
        }
        if (o.path().equals("/machine")) {
            switch (property) {
                case "lbr-policy":
                    return NODES.textNode(vm.lbrPolicy().name());
                case "guest-lbr":
                    return NODES.booleanNode(vm.guestLbr());
                default:
                    break;
            }
        }
        if (o.cpu() != null) {
            Vcpu v = o.cpu();
            switch (property) {
                case "pmu":
                    return NODES.booleanNode(v.cpu().cpuid().pmuVersion() > 0);
                case "pdcm":
                    return NODES.booleanNode(v.cpu().cpuid().pdcm());
                case "model":
                    return NODES.textNode(v.model().name());
                case "lbr-fmt":
                case "lbr_fmt":
                    try {
                        return NODES.numberNode(BigInteger.valueOf(v.getMsr(Msr.IA32_PERF_CAPABILITIES) & 0x3F));
                    } catch (KvmException e) {
                        return NODES.numberNode(0);
                    }
                default:
                    break;
            }
        }
        throw QmpError.generic("Property '" + o.type() + "." + QmpError.echo(property) + "' not found");
    }

    static void set(Vm vm, String path, String property) throws QmpError {
        Obj o = resolve(vm, path);
        get(vm, path, property); // "not found" first
        if (o.cpu() != null && !property.equals("type")) {
            throw QmpError.generic("Attempt to set property '" + QmpError.echo(property) + "' on anonymous device (type '" + o.type()
                    + "') after it was realized");
        }
        throw QmpError.generic("Property '" + o.type() + "." + QmpError.echo(property) + "' is not writable");
    }
}
