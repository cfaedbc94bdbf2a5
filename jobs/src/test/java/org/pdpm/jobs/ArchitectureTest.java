package org.pdpm.jobs;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keeps the layers of DESIGN §1 apart: the fabric knows nothing of the stores, the stores nothing
 * of Flink, the backend nothing of the baseline, and nothing below knows the jobs. Inside the
 * fabric, the API knows no implementation, so the stores can never reach past it.
 */
class ArchitectureTest {

    private static JavaClasses classes;

    @BeforeAll
    static void importProductionClasses() {
        classes = new ClassFileImporter()
                .withImportOption(new ImportOption.DoNotIncludeTests())
                .importPackages("org.pdpm");
    }

    @Test
    void theRulesSeeTheFabric() {
        // A rule over an empty layer passes vacuously; the fabric at least must really be checked.
        assertThat(classes.that(resideInAPackage("org.pdpm.rdma.api.."))).isNotEmpty();
        assertThat(classes.that(resideInAPackage("org.pdpm.rdma.local.."))).isNotEmpty();
    }

    @Test
    void fabricDependsOnNoHigherLayer() {
        check(noClasses().that().resideInAPackage("org.pdpm.rdma..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "org.pdpm.core..", "org.pdpm.flink..", "org.pdpm.baseline..", "org.pdpm.jobs.."));
    }

    @Test
    void fabricApiDependsOnNoImplementation() {
        check(noClasses().that().resideInAPackage("org.pdpm.rdma.api..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "org.pdpm.rdma.local..", "org.pdpm.rdma.tcp..", "org.pdpm.rdma.disni..",
                        "org.pdpm.rdma.sim..", "org.pdpm.rdma.memory.."));
    }

    @Test
    void storesDependOnNeitherFlinkNorHigherLayers() {
        check(noClasses().that().resideInAPackage("org.pdpm.core..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "org.pdpm.flink..", "org.pdpm.baseline..", "org.pdpm.jobs..", "org.apache.flink..")
                .allowEmptyShould(true));
    }

    @Test
    void backendDependsOnNeitherBaselineNorJobs() {
        check(noClasses().that().resideInAPackage("org.pdpm.flink..")
                .should().dependOnClassesThat().resideInAnyPackage("org.pdpm.baseline..", "org.pdpm.jobs..")
                .allowEmptyShould(true));
    }

    @Test
    void baselineDependsOnNoJobs() {
        check(noClasses().that().resideInAPackage("org.pdpm.baseline..")
                .should().dependOnClassesThat().resideInAPackage("org.pdpm.jobs..")
                .allowEmptyShould(true));
    }

    private static void check(ArchRule rule) {
        rule.check(classes);
    }
}
