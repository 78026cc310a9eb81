package dev.lbrvmm.vmm.machine;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.cpu.CpuModels;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Typed reads of a resolved guest config, each failing with a {@link GuestConfigException} that
 * names the file and line (or the {@code -o} option) that set the value, the key, and what was
 * wrong. The config sections ({@link GuestSection}, {@link ProgramSection}, ...) read themselves
 * through it.
 */
final class ConfigReader {
    private final Config config;

    ConfigReader(Config config) {
        this.config = config;
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

    /** Every key with a value (lists count as one), mapped to where it was set. */
    Map<String, String> origins() {
        Map<String, String> m = new java.util.HashMap<>();
        for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
            m.put(e.getKey(), where(e.getValue()));
        }
        return Map.copyOf(m);
    }

    ConfigValue value(String path) {
        return config.getValue(path);
    }

    boolean isNull(String path) {
        return config.getIsNull(path);
    }

    /** An error about the value at {@code path}: "file:line: path problem". */
    GuestConfigException bad(String path, String problem) {
        return new GuestConfigException(where(value(path)) + ": " + path + " " + problem);
    }

    static GuestConfigException bad(ConfigValue v, String path, String problem) {
        return new GuestConfigException(where(v) + ": " + path + " " + problem);
    }

    String string(String path) {
        return config.getString(path);
    }

    List<String> strings(String path) {
        return List.copyOf(config.getStringList(path));
    }

    boolean bool(String path) {
        return config.getBoolean(path);
    }

    /** A size: an integer number of bytes, or a string with a unit ("64M"); fractions are refused. */
    long bytes(String path) throws GuestConfigException {
        ConfigValue v = value(path);
        if (v.valueType() == ConfigValueType.NUMBER) {
            return wholeNumber(path);
        }
        if (v.valueType() == ConfigValueType.STRING && ((String) v.unwrapped()).contains(".")) {
            throw bad(path, "must be a whole number of bytes or units (such as 64M or 1536M), got '" + v.unwrapped() + "'");
        }
        return config.getBytes(path);
    }

    /** A number that must be an integer: Typesafe Config would truncate 2.9 to 2 without a word. */
    private long wholeNumber(String path) throws GuestConfigException {
        ConfigValue v = value(path);
        if (v.valueType() == ConfigValueType.NUMBER && (v.unwrapped() instanceof Double || v.unwrapped() instanceof Float)) {
            throw bad(path, "must be an integer, got " + v.unwrapped());
        }
        return config.getLong(path);
    }

    int intIn(String path, int min, int max) throws GuestConfigException {
        wholeNumber(path);
        int v = config.getInt(path);
        if (v < min || v > max) {
            throw bad(path, "must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    long longIn(String path, long min, long max, String unit) throws GuestConfigException {
        long v = wholeNumber(path);
        if (v < min || v > max) {
            throw bad(path, "must be between " + min + " and " + max + unit + ", got " + v);
        }
        return v;
    }

    long nonNegative(String path) throws GuestConfigException {
        long v = wholeNumber(path);
        if (v < 0) {
            throw bad(path, "must not be negative, got " + v);
        }
        return v;
    }

    <E extends Enum<E>> E enumOf(String path, Class<E> type) throws GuestConfigException {
        String s = config.getString(path);
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(s)) {
                return e;
            }
        }
        String valid = Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", "));
        throw bad(path, "must be one of " + valid + ", got '" + s + "'");
    }

    CpuModel model(String path) throws GuestConfigException {
        String s = config.getString(path);
        return CpuModels.byName(s).orElseThrow(() ->
                bad(path, "names no known CPU model: '" + s + "'; valid models: " + String.join(", ", CpuModels.names())));
    }

    /** An address or MSR value: an integer, or a string in hex (0x...) or decimal. */
    long number(String path) throws GuestConfigException {
        return number(value(path), path);
    }

    static long number(ConfigValue v, String path) throws GuestConfigException {
        if (v.valueType() == ConfigValueType.NUMBER) {
            Number n = (Number) v.unwrapped();
            if (n instanceof Double || n instanceof Float) {
                throw bad(v, path, "must be an integer, got " + n);
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
                throw bad(v, path, "must be an integer or a 0x... hex string, got '" + s + "'");
            }
        }
        throw bad(v, path, "must be an integer or a 0x... hex string, got " + v.valueType().name().toLowerCase(Locale.ROOT));
    }

    static String string(ConfigValue v, String path) throws GuestConfigException {
        if (v.valueType() != ConfigValueType.STRING) {
            throw bad(v, path, "must be a string");
        }
        return (String) v.unwrapped();
    }

    static boolean bool(ConfigValue v, String path) throws GuestConfigException {
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
        throw bad(v, path, "must be a boolean (on/off, true/false)");
    }

    List<? extends ConfigObject> objects(String path) throws GuestConfigException {
        ConfigValue v = value(path);
        if (!(v instanceof ConfigList list) || !list.stream().allMatch(e -> e instanceof ConfigObject)) {
            throw bad(v, path, "must be a list of objects ({ ... })");
        }
        return config.getObjectList(path);
    }

    ConfigList list(String path, String example) throws GuestConfigException {
        ConfigValue v = value(path);
        if (!(v instanceof ConfigList list)) {
            throw bad(v, path, "must be a list, e.g. " + example);
        }
        return list;
    }

    /** Reads one object of a list; {@code at} is its path, e.g. {@code host.tasks[2]}. */
    @FunctionalInterface
    interface ObjectReader<T> {
        T read(ConfigObject o, String at, int i) throws GuestConfigException;
    }

    /** Each object of the list at {@code path}, its keys checked against {@code keys} first. */
    <T> List<T> eachObject(String path, List<String> keys, ObjectReader<T> reader) throws GuestConfigException {
        List<T> out = new java.util.ArrayList<>();
        List<? extends ConfigObject> list = objects(path);
        for (int i = 0; i < list.size(); i++) {
            String at = path + "[" + i + "]";
            allowKeys(list.get(i), at, keys.toArray(String[]::new));
            out.add(reader.read(list.get(i), at, i));
        }
        return List.copyOf(out);
    }

    /** Rejects keys of an object in a list (where reference.conf cannot list the valid ones). */
    static void allowKeys(ConfigObject o, String at, String... keys) throws GuestConfigException {
        for (String k : o.keySet()) {
            if (!List.of(keys).contains(k)) {
                throw new GuestConfigException(where(o.get(k)) + ": unknown key '" + at + "." + k + "'; valid keys here: "
                        + String.join(", ", keys));
            }
        }
    }

    /** A list of physical CPU numbers as a mask; an empty list means every CPU. */
    static long cpuMask(ConfigValue v, String path, int cpus) throws GuestConfigException {
        if (!(v instanceof ConfigList list)) {
            throw bad(v, path, "must be a list of physical CPU numbers, e.g. [0, 1]");
        }
        long mask = 0;
        for (ConfigValue e : list) {
            long n = number(e, path);
            if (n < 0 || n >= cpus) {
                throw bad(e, path, "names CPU " + n + " but the host has " + cpus + " (0.." + (cpus - 1) + ")");
            }
            mask |= 1L << n;
        }
        return mask == 0 ? dev.lbrvmm.vmm.host.Host.allCpus(cpus) : mask;
    }

    /** A path relative to the file that set it (as given when it came from the command line). */
    Path relativePath(String path) throws GuestConfigException {
        ConfigValue v = value(path);
        Path p;
        try {
            p = Path.of(config.getString(path));
        } catch (java.nio.file.InvalidPathException e) {
            throw bad(path, "is not a usable path: " + e.getReason());
        }
        String f = v.origin().filename();
        if (p.isAbsolute() || f == null) {
            return p;
        }
        Path dir = Path.of(f).toAbsolutePath().getParent();
        return dir == null ? p : dir.resolve(p).normalize();
    }
}
