package dev.lbrvmm.vmm.machine;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigOriginFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.cpu.CpuModels;
import dev.lbrvmm.vmm.cpu.Msr;
import dev.lbrvmm.vmm.kvm.CostTable;
import dev.lbrvmm.vmm.kvm.GuestLbrPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * Reads a HOCON guest config: the file (with its includes and {@code ${?ENV}} substitutions),
 * then {@code -o key=value} overrides on top, then reference.conf defaults below. Rejects unknown
 * keys, wrong types and out-of-range values with the file, line and key in the message.
 */
public final class GuestConfigLoader {
    private static final String MSRS = "guest.msrs";

    private GuestConfigLoader() {}

    /**
     * @param file      the config file, or null to use only defaults and overrides
     * @param overrides {@code key=value} strings from the command line
     */
    public static GuestConfig load(Path file, List<String> overrides) throws GuestConfigException {
        try {
            Config user = ConfigFactory.empty();
            if (file != null) {
                if (!Files.isRegularFile(file)) {
                    throw new GuestConfigException("config file " + file + " does not exist or is not a file");
                }
                ConfigParseOptions opts = ConfigParseOptions.defaults().setAllowMissing(false)
                        .setSyntax(file.toString().endsWith(".json") ? ConfigSyntax.JSON : ConfigSyntax.CONF);
                user = ConfigFactory.parseFile(file.toFile(), opts);
            }
            for (int i = overrides.size() - 1; i >= 0; i--) {
                user = parseOverride(overrides.get(i)).withFallback(user);
            }
            Config reference = ConfigFactory.defaultReference();
            checkKeys(user.root(), reference.root(), "");
            Config c = user.withFallback(reference).resolve();
            return read(c, file);
        } catch (ConfigException e) {
            throw new GuestConfigException(e.getMessage());
        }
    }

    /** Parses one {@code -o key=value}: the value as HOCON, or as a plain string when it is not one. */
    static Config parseOverride(String arg) throws GuestConfigException {
        int eq = arg.indexOf('=');
        if (eq <= 0) {
            throw new GuestConfigException("-o " + arg + ": expected key=value, e.g. -o guest.vcpus=2");
        }
        String key = arg.substring(0, eq).trim();
        String text = arg.substring(eq + 1).trim();
        try {
            ConfigUtil.splitPath(key);
        } catch (ConfigException e) {
            throw new GuestConfigException("-o " + arg + ": '" + key + "' is not a valid key path");
        }
        ConfigOrigin origin = ConfigOriginFactory.newSimple("-o " + arg);
        ConfigValue value = null;
        if (!text.contains("//") && !text.contains("#")) {
            try {
                value = ConfigFactory.parseString("v = " + text).root().get("v");
            } catch (ConfigException e) {
                value = null;
            }
        }
        if (value == null) {
            value = ConfigValueFactory.fromAnyRef(text);
        }
        return ConfigFactory.empty().withValue(key, value.withOrigin(origin));
    }

    private static void checkKeys(ConfigObject user, ConfigObject ref, String prefix) throws GuestConfigException {
        for (Map.Entry<String, ConfigValue> e : user.entrySet()) {
            String path = prefix.isEmpty() ? ConfigUtil.joinPath(e.getKey()) : prefix + "." + ConfigUtil.joinPath(e.getKey());
            if (path.equals(MSRS)) {
                continue; // free-form: MSR names and numbers, checked when read
            }
            ConfigValue r = ref.get(e.getKey());
            if (r == null) {
                throw new GuestConfigException(where(e.getValue()) + ": unknown key '" + path + "'" + suggest(e.getKey(), ref, prefix));
            }
            if (r instanceof ConfigObject ro && e.getValue() instanceof ConfigObject uo) {
                checkKeys(uo, ro, path);
            }
        }
    }

    private static String suggest(String key, ConfigObject ref, String prefix) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (String k : ref.keySet()) {
            int d = distance(key, k);
            if (d < bestD) {
                bestD = d;
                best = k;
            }
        }
        String valid = ref.keySet().stream().sorted()
                .map(k -> prefix.isEmpty() ? k : prefix + "." + k).collect(Collectors.joining(", "));
        String did = best != null && bestD <= 3 ? " (did you mean '" + (prefix.isEmpty() ? best : prefix + "." + best) + "'?)" : "";
        return did + "; valid keys here: " + valid;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** "file:line" of a value, or its origin's description for command-line values and defaults. */
    static String where(ConfigValue v) {
        ConfigOrigin o = v.origin();
        if (o.filename() != null) {
            return o.lineNumber() > 0 ? o.filename() + ":" + o.lineNumber() : o.filename();
        }
        if (o.resource() != null) {
            return "default (" + o.resource() + ")";
        }
        return o.description();
    }

    private static GuestConfig read(Config c, Path file) throws GuestConfigException {
        String name = c.getString("guest.name");
        long memory = c.getBytes("guest.memory");
        if (memory < (1 << 20) || memory > (1L << 30) || (memory & 0xFFF) != 0) {
            throw bad(c, "guest.memory", "must be a multiple of 4 KiB between 1 MiB and 1 GiB, got " + memory + " bytes");
        }
        int vcpus = intIn(c, "guest.vcpus", 1, 64);
        GuestConfig.ApStart apStart = enumOf(c, "guest.ap-start", GuestConfig.ApStart.class);
        CpuModel model = model(c, "guest.cpu.model");

        String programPath = c.getString("guest.program.path");
        GuestConfig.Format format = enumOf(c, "guest.program.format", GuestConfig.Format.class);
        long loadAddress = address(c, "guest.program.load-address");
        OptionalLong entry = c.getIsNull("guest.program.entry") ? OptionalLong.empty()
                : OptionalLong.of(address(c, "guest.program.entry"));
        Path program = programPath.isEmpty() ? null : relativeTo(c.getValue("guest.program.path"), programPath);

        OptionalLong sp = c.getIsNull("guest.stack-pointer") ? OptionalLong.empty()
                : OptionalLong.of(address(c, "guest.stack-pointer"));

        List<GuestConfig.MsrSetting> msrs = msrs(c);

        GuestConfig.SerialOutput serial = output(c, "guest.serial.output");
        GuestConfig.SerialOutput programStdout = c.getString("guest.program.stdout").equals("serial") ? null
                : output(c, "guest.program.stdout");

        boolean guestLbr = c.getBoolean("kvm.guest-lbr");
        String policy = c.getString("kvm.lbr-policy");
        if (GuestLbrPolicy.byName(policy).isEmpty()) {
            throw bad(c, "kvm.lbr-policy", "must be one of " + String.join(", ", GuestLbrPolicy.NAMES) + ", got '" + policy + "'");
        }
        CostTable costs = new CostTable(nonNegative(c, "kvm.cost.vm-exit"), nonNegative(c, "kvm.cost.rdmsr"),
                nonNegative(c, "kvm.cost.wrmsr"), nonNegative(c, "kvm.cost.perf-event"));
        int hostCpus = intIn(c, "host.cpus", 1, 64);
        CpuModel hostModel = model(c, "host.cpu-model");
        long slice = c.getLong("host.time-slice");
        if (slice < 1 || slice > 1_000_000_000L) {
            throw bad(c, "host.time-slice", "must be between 1 and 1000000000 guest instructions, got " + slice);
        }
        long vcpuAffinity = cpuMask(c.getValue("host.vcpu-cpus"), "host.vcpu-cpus", hostCpus);
        List<GuestConfig.HostTask> tasks = new ArrayList<>();
        List<? extends ConfigObject> taskList = objects(c, "host.tasks");
        for (int i = 0; i < taskList.size(); i++) {
            ConfigObject o = taskList.get(i);
            String at = "host.tasks[" + i + "]";
            allowKeys(o, at, "name", "cpus", "lbr");
            String tname = o.containsKey("name") ? string(o.get("name"), at + ".name") : "host-task-" + i;
            long aff = o.containsKey("cpus") ? cpuMask(o.get("cpus"), at + ".cpus", hostCpus) : (1L << hostCpus) - 1;
            String lbr = o.containsKey("lbr") ? string(o.get("lbr"), at + ".lbr") : "none";
            if (!List.of("none", "task-pinned", "task-flexible").contains(lbr)) {
                throw new GuestConfigException(where(o.get("lbr")) + ": " + at + ".lbr must be none, task-pinned or task-flexible, got '"
                        + lbr + "'");
            }
            tasks.add(new GuestConfig.HostTask(tname, aff, lbr));
        }
        List<GuestConfig.CpuLbrEvent> events = new ArrayList<>();
        List<? extends ConfigObject> eventList = objects(c, "host.lbr-events");
        for (int i = 0; i < eventList.size(); i++) {
            ConfigObject o = eventList.get(i);
            String at = "host.lbr-events[" + i + "]";
            allowKeys(o, at, "cpu", "pinned");
            long cpu = o.containsKey("cpu") ? number(o.get("cpu"), at + ".cpu") : 0;
            if (cpu < 0 || cpu >= hostCpus) {
                throw new GuestConfigException(where(o) + ": " + at + ".cpu must name one of the host's " + hostCpus + " CPUs, got " + cpu);
            }
            boolean pinned = !o.containsKey("pinned") || bool(o.get("pinned"), at + ".pinned");
            events.add(new GuestConfig.CpuLbrEvent((int) cpu, pinned));
        }
        return new GuestConfig(name, memory, vcpus, apStart, model,
                new GuestConfig.Program(program, format, loadAddress, entry, List.copyOf(c.getStringList("guest.program.args")),
                        programStdout), sp, msrs, serial, guestLbr, policy, costs,
                new GuestConfig.Host(hostCpus, hostModel, slice, vcpuAffinity, List.copyOf(tasks), List.copyOf(events)),
                monitor(c), file);
    }

    private static GuestConfig.Monitor monitor(Config c) throws GuestConfigException {
        List<String> qmp = new ArrayList<>();
        ConfigValue list = c.getValue("monitor.qmp");
        if (list.valueType() != ConfigValueType.LIST) {
            throw new GuestConfigException(where(list) + ": monitor.qmp must be a list of addresses, e.g. [\"tcp:127.0.0.1:4444\"]");
        }
        for (ConfigValue v : (com.typesafe.config.ConfigList) list) {
            String s = string(v, "monitor.qmp");
            try {
                dev.lbrvmm.monitor.netty.QmpAddress.parse(s);
            } catch (IllegalArgumentException e) {
                throw new GuestConfigException(where(v) + ": monitor.qmp: " + e.getMessage());
            }
            qmp.add(s);
        }
        return new GuestConfig.Monitor(List.copyOf(qmp), c.getBoolean("monitor.start-paused"));
    }

    private static long nonNegative(Config c, String path) throws GuestConfigException {
        long v = c.getLong(path);
        if (v < 0) {
            throw bad(c, path, "must not be negative, got " + v);
        }
        return v;
    }

    private static List<? extends ConfigObject> objects(Config c, String path) throws GuestConfigException {
        try {
            return c.getObjectList(path);
        } catch (ConfigException.WrongType e) {
            throw new GuestConfigException(where(c.getValue(path)) + ": " + path + " must be a list of objects ({ ... })");
        }
    }

    private static void allowKeys(ConfigObject o, String at, String... keys) throws GuestConfigException {
        for (String k : o.keySet()) {
            if (!List.of(keys).contains(k)) {
                throw new GuestConfigException(where(o.get(k)) + ": unknown key '" + at + "." + k + "'; valid keys here: "
                        + String.join(", ", keys));
            }
        }
    }

    private static String string(ConfigValue v, String path) throws GuestConfigException {
        if (v.valueType() != ConfigValueType.STRING) {
            throw new GuestConfigException(where(v) + ": " + path + " must be a string");
        }
        return (String) v.unwrapped();
    }

    private static boolean bool(ConfigValue v, String path) throws GuestConfigException {
        if (v.valueType() == ConfigValueType.BOOLEAN) {
            return (Boolean) v.unwrapped();
        }
        if (v.valueType() == ConfigValueType.STRING) {
            String s = ((String) v.unwrapped()).toLowerCase(Locale.ROOT);
            if (List.of("on", "yes", "true").contains(s)) {
                return true;
            }
            if (List.of("off", "no", "false").contains(s)) {
                return false;
            }
        }
        throw new GuestConfigException(where(v) + ": " + path + " must be a boolean (on/off, true/false)");
    }

    /** A list of CPU indices as a mask; an empty list means every CPU. */
    private static long cpuMask(ConfigValue v, String path, int cpus) throws GuestConfigException {
        if (v.valueType() != ConfigValueType.LIST) {
            throw new GuestConfigException(where(v) + ": " + path + " must be a list of physical CPU numbers, e.g. [0, 1]");
        }
        long mask = 0;
        for (ConfigValue e : (com.typesafe.config.ConfigList) v) {
            long n = number(e, path);
            if (n < 0 || n >= cpus) {
                throw new GuestConfigException(where(e) + ": " + path + " names CPU " + n + " but the host has " + cpus + " (0.."
                        + (cpus - 1) + ")");
            }
            mask |= 1L << n;
        }
        return mask == 0 ? (cpus == 64 ? -1L : (1L << cpus) - 1) : mask;
    }

    private static Path relativeTo(ConfigValue v, String path) {
        Path p = Path.of(path);
        String f = v.origin().filename();
        if (p.isAbsolute() || f == null) {
            return p;
        }
        Path dir = Path.of(f).toAbsolutePath().getParent();
        return dir == null ? p : dir.resolve(p).normalize();
    }

    private static GuestConfigException bad(Config c, String path, String problem) {
        return new GuestConfigException(where(c.getValue(path)) + ": " + path + " " + problem);
    }

    private static int intIn(Config c, String path, int min, int max) throws GuestConfigException {
        int v = c.getInt(path);
        if (v < min || v > max) {
            throw bad(c, path, "must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    private static <E extends Enum<E>> E enumOf(Config c, String path, Class<E> type) throws GuestConfigException {
        String s = c.getString(path);
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(s)) {
                return e;
            }
        }
        String valid = java.util.Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", "));
        throw bad(c, path, "must be one of " + valid + ", got '" + s + "'");
    }

    private static CpuModel model(Config c, String path) throws GuestConfigException {
        String s = c.getString(path);
        return CpuModels.byName(s).orElseThrow(() ->
                bad(c, path, "names no known CPU model: '" + s + "'; valid models: " + String.join(", ", CpuModels.names())));
    }

    /** An address or MSR value: an integer, or a string in hex (0x...) or decimal. */
    private static long address(Config c, String path) throws GuestConfigException {
        return number(c.getValue(path), path);
    }

    private static long number(ConfigValue v, String path) throws GuestConfigException {
        if (v.valueType() == ConfigValueType.NUMBER) {
            Number n = (Number) v.unwrapped();
            if (n instanceof Double || n instanceof Float) {
                throw new GuestConfigException(where(v) + ": " + path + " must be an integer, got " + n);
            }
            return n.longValue();
        }
        if (v.valueType() == ConfigValueType.STRING) {
            String s = ((String) v.unwrapped()).trim().replace("_", "");
            try {
                if (s.startsWith("0x") || s.startsWith("0X")) {
                    return Long.parseUnsignedLong(s.substring(2), 16);
                }
                return Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw new GuestConfigException(where(v) + ": " + path + " must be an integer or a 0x... hex string, got '" + s + "'");
            }
        }
        throw new GuestConfigException(where(v) + ": " + path + " must be an integer or a 0x... hex string, got "
                + v.valueType().name().toLowerCase(Locale.ROOT));
    }

    /** stdout, stderr, none or a file path (relative to the file that set it). */
    private static GuestConfig.SerialOutput output(Config c, String key) throws GuestConfigException {
        String out = c.getString(key);
        return switch (out) {
            case "stdout" -> new GuestConfig.SerialOutput(GuestConfig.SerialOutput.Kind.STDOUT, null);
            case "stderr" -> new GuestConfig.SerialOutput(GuestConfig.SerialOutput.Kind.STDERR, null);
            case "none" -> new GuestConfig.SerialOutput(GuestConfig.SerialOutput.Kind.NONE, null);
            default -> {
                if (out.isEmpty()) {
                    throw bad(c, key, "must be stdout, stderr, none or a file path");
                }
                yield new GuestConfig.SerialOutput(GuestConfig.SerialOutput.Kind.FILE, relativeTo(c.getValue(key), out));
            }
        };
    }

    private static List<GuestConfig.MsrSetting> msrs(Config c) throws GuestConfigException {
        List<GuestConfig.MsrSetting> out = new ArrayList<>();
        ConfigValue node = c.getValue(MSRS);
        if (!(node instanceof ConfigObject obj)) {
            throw new GuestConfigException(where(node) + ": " + MSRS + " must be an object of MSR name = value");
        }
        for (Map.Entry<String, ConfigValue> e : obj.entrySet()) {
            String path = MSRS + "." + ConfigUtil.joinPath(e.getKey());
            OptionalInt idx = Msr.parse(e.getKey());
            if (idx.isEmpty()) {
                throw new GuestConfigException(where(e.getValue()) + ": " + path + ": '" + e.getKey()
                        + "' is not an MSR name or number; use a quoted number such as \"0x1d9\" or one of: "
                        + String.join(", ", Msr.names().keySet()));
            }
            out.add(new GuestConfig.MsrSetting(idx.getAsInt(), number(e.getValue(), path), path, where(e.getValue())));
        }
        return out;
    }
}
