package dev.lbrvmm.vmm;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The layering the README states, checked on the compiled classes of both modules: arrows only
 * point down (cpu < host < kvm < machine < qmp, report, bench < cli), kvm never sees machine, Netty and
 * Jackson stay in the monitor library and vmm.qmp, and the monitor library knows nothing of the VMM.
 */
class LayeringTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.lbrvmm");

    @Test
    void layersOnlyUseTheLayersBelow() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("cpu").definedBy("dev.lbrvmm.vmm.cpu..")
                .layer("host").definedBy("dev.lbrvmm.vmm.host..")
                .layer("kvm").definedBy("dev.lbrvmm.vmm.kvm..")
                .layer("machine").definedBy("dev.lbrvmm.vmm.machine..")
                .layer("qmp").definedBy("dev.lbrvmm.vmm.qmp..")
                .layer("report").definedBy("dev.lbrvmm.vmm.report..")
                .layer("bench").definedBy("dev.lbrvmm.vmm.bench..")
                .layer("cli").definedBy("dev.lbrvmm.vmm.cli..")
                .whereLayer("cli").mayNotBeAccessedByAnyLayer()
                .whereLayer("bench").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("report").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("qmp").mayOnlyBeAccessedByLayers("cli", "report")
                .whereLayer("machine").mayOnlyBeAccessedByLayers("qmp", "report", "bench", "cli")
                .whereLayer("kvm").mayOnlyBeAccessedByLayers("machine", "qmp", "report", "bench", "cli")
                .whereLayer("host").mayOnlyBeAccessedByLayers("kvm", "machine", "qmp", "report", "bench", "cli")
                .check(CLASSES);
    }

    @Test
    void cpuUsesOnlyTheJdkAndAsmForTranslation() {
        noClasses().that().resideInAPackage("dev.lbrvmm.vmm.cpu..")
                .should().dependOnClassesThat().resideOutsideOfPackages("dev.lbrvmm.vmm.cpu..", "java..", "org.objectweb.asm..")
                .check(CLASSES);
        onlyUsedIn("org.objectweb.asm..", "dev.lbrvmm.vmm.cpu..");
        noClasses().that().resideInAPackage("dev.lbrvmm.vmm.cpu..").and().haveNameNotMatching(".*\\.(RegionCompiler|InstructionEmitter)(\\$.*)?")
                .should().dependOnClassesThat().resideInAPackage("org.objectweb.asm..").check(CLASSES);
    }

    /** No class outside {@code packages} depends on {@code library}. */
    private static void onlyUsedIn(String library, String... packages) {
        noClasses().that().resideOutsideOfPackages(packages)
                .should().dependOnClassesThat().resideInAPackage(library)
                .check(CLASSES);
    }

    @Test
    void nettyStaysInTheMonitorLibrary() {
        onlyUsedIn("io.netty..", "dev.lbrvmm.monitor..");
    }

    @Test
    void jacksonStaysInTheMonitorLibraryAndVmmQmp() {
        onlyUsedIn("com.fasterxml.jackson..", "dev.lbrvmm.monitor..", "dev.lbrvmm.vmm.qmp..");
    }

    @Test
    void typesafeConfigIsReadOnlyByTheMachineAndTheCommandLine() {
        onlyUsedIn("com.typesafe.config..", "dev.lbrvmm.vmm.machine..", "dev.lbrvmm.vmm.cli..");
    }

    @Test
    void theMonitorLibraryKnowsNothingOfTheVmm() {
        noClasses().that().resideInAPackage("dev.lbrvmm.monitor..")
                .should().dependOnClassesThat().resideInAPackage("dev.lbrvmm.vmm..")
                .check(CLASSES);
    }
}
