/**
 * The hardware: one x86-64 logical processor ({@link dev.lbrvmm.vmm.cpu.Cpu}: state, decoded-block
 * cache, run loop), its decoder, one class per instruction family (Arithmetic, LazyFlags, FlagOps,
 * MulDiv, Shifts, BitOps, DataTransfer, ControlFlow, StringOps, SystemOps, Interrupts) with the
 * reference Executor and the fast handlers Handlers selects, the model-specific LBR unit and its
 * record formats, the branch predictor, MSR numbers, the CPU model table and CPUID.
 *
 * <p>May use: the JDK only. Knows nothing of the host, KVM, the machine or the monitor; the layers
 * above reach it through {@link dev.lbrvmm.vmm.cpu.MsrBus}, {@link dev.lbrvmm.vmm.cpu.BranchListener}
 * and {@link dev.lbrvmm.vmm.cpu.CpuExit}. Coming homes: x87, 32-bit protected mode and paging get
 * classes of their own next to the families (see docs/design.md).
 */
package dev.lbrvmm.vmm.cpu;
