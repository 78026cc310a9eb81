/**
 * The hardware: one x86-64 logical processor ({@link dev.lbrvmm.vmm.cpu.Cpu}: state, decoded-block
 * cache, run loop), its decoder, one class per instruction family (Arithmetic, LazyFlags, FlagOps,
 * MulDiv, Shifts, BitOps, DataTransfer, ControlFlow, StringOps, SystemOps, Interrupts) with the
 * reference Executor and the fast handlers Handlers selects, the model-specific LBR unit and its
 * record formats, the branch predictor, MSR numbers, the CPU model table and CPUID; and the
 * translating engine (JitEngine forms regions of hot blocks, RegionCompiler and InstructionEmitter
 * write them as JVM bytecode, CompiledRegion states the contract; docs/jit.md).
 *
 * <p>May use: the JDK, and ASM in RegionCompiler and InstructionEmitter only. Knows nothing of the host, KVM, the machine or the monitor; the layers
 * above reach it through {@link dev.lbrvmm.vmm.cpu.MsrBus}, {@link dev.lbrvmm.vmm.cpu.BranchListener}
 * and {@link dev.lbrvmm.vmm.cpu.CpuExit}. x87, 32-bit protected mode and paging have classes of
 * their own next to the families (see docs/design.md).
 */
package dev.lbrvmm.vmm.cpu;
