package dev.lbrvmm.vmm.cpu;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Translations shared by every vCPU and machine of the process, keyed by what they were made
 * from: each block's address, decoding mode and bytes. Equal keys decode to equal instructions
 * (decoding depends on nothing else), so a region formed again from the same code - another vCPU
 * running the same program, the next run of a benchmark or a policy sweep - gets the class the JVM
 * has already compiled instead of a new one. Bounded: when full it is emptied (the classes then go
 * with the regions that still use them).
 */
final class TranslationCache {
    static final int MAX_ENTRIES = 2048;
    private static final ConcurrentHashMap<Key, CompiledRegion> CACHE = new ConcurrentHashMap<>();

    private TranslationCache() {}

    /** The bytes a region was made from. */
    static final class Key {
        private final byte[] content;
        private final int hash;

        private Key(byte[] content) {
            this.content = content;
            this.hash = Arrays.hashCode(content);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && Arrays.equals(k.content, content);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** The key of a region, or null when a block's bytes are not known. */
    static Key key(List<Block> region) {
        int size = 0;
        for (Block b : region) {
            if (b.code == null) {
                return null;
            }
            size += 13 + b.code.length;
        }
        ByteBuffer buf = ByteBuffer.allocate(size);
        for (Block b : region) {
            buf.putLong(b.rip).put((byte) (b.mode32 ? 1 : 0)).putInt(b.code.length).put(b.code);
        }
        return new Key(buf.array());
    }

    static CompiledRegion get(Key k) {
        return k == null ? null : CACHE.get(k);
    }

    static void put(Key k, CompiledRegion code) {
        if (k == null || code == null) {
            return;
        }
        if (CACHE.size() >= MAX_ENTRIES) {
            CACHE.clear();
        }
        CACHE.put(k, code);
    }
}
