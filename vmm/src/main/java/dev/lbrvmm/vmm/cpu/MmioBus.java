package dev.lbrvmm.vmm.cpu;

/**
 * Physical addresses outside RAM, under architectural control (a Multiboot boot): the machine's
 * devices (the local APIC's page) and the rule for unclaimed addresses (reads all ones, writes
 * dropped). Without architectural control an address outside RAM raises #PF instead.
 */
public interface MmioBus {
    long read(long physical, int size);

    void write(long physical, int size, long value);
}
