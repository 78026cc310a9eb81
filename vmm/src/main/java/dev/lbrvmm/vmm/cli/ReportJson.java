package dev.lbrvmm.vmm.cli;

import dev.lbrvmm.monitor.ReplyJson;
import dev.lbrvmm.vmm.report.BranchTable;
import dev.lbrvmm.vmm.report.ProgramImage;
import java.util.List;

/**
 * {@code report --json}: {@code {"summary": [...], "records": N, "branches": [{"count", "share",
 * "mispredict-rate", "from", "to", "from-symbol", "to-symbol"}, ...]}}, every distinct branch, most
 * frequent first. Addresses are "0x..." strings (JSON numbers lose 64-bit addresses in many
 * readers); symbols and the mispredict rate are left out where unknown.
 */
final class ReportJson {
    record Report(List<String> summary, long records, List<Branch> branches) {}

    record Branch(long count, double share, Double mispredictRate, String from, String to, String fromSymbol, String toSymbol) {}

    private ReportJson() {}

    static String text(List<String> summary, BranchTable table, ProgramImage image) {
        long records = table.records();
        List<Branch> branches = table.rows().stream().map(r -> new Branch(r.count(), records == 0 ? 0 : (double) r.count() / records,
                Double.isNaN(r.mispredictRate()) ? null : r.mispredictRate(), "0x" + Long.toHexString(r.from()),
                "0x" + Long.toHexString(r.to()), symbol(image, r.from()), symbol(image, r.to()))).toList();
        return ReplyJson.text(new Report(summary, records, branches));
    }

    private static String symbol(ProgramImage image, long address) {
        return image.hasSymbols() && image.symbolAt(address) ? image.describe(address) : null;
    }
}
