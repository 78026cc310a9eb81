/**
 * The command line (picocli): run, report, qmp, bench and its sub-commands, exit statuses and
 * logging setup. The top of the house: may use every package.
 */
package dev.lbrvmm.vmm.cli;
