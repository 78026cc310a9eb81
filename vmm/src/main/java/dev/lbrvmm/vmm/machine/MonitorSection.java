package dev.lbrvmm.vmm.machine;

import com.typesafe.config.ConfigValue;
import dev.lbrvmm.monitor.netty.QmpAddress;
import java.util.ArrayList;
import java.util.List;

/** The {@code monitor} section: QMP endpoints (QEMU -qmp syntax) and whether to start paused. */
public record MonitorSection(List<String> qmp, boolean startPaused) {

    static MonitorSection from(ConfigReader r) throws GuestConfigException {
        List<String> qmp = new ArrayList<>();
        for (ConfigValue v : r.list("monitor.qmp", "[\"tcp:127.0.0.1:4444\"]")) {
            String s = ConfigReader.string(v, "monitor.qmp");
            try {
                QmpAddress.parse(s);
            } catch (IllegalArgumentException e) {
                throw new GuestConfigException(ConfigReader.where(v) + ": monitor.qmp: " + e.getMessage());
            }
            qmp.add(s);
        }
        return new MonitorSection(List.copyOf(qmp), r.bool("monitor.start-paused"));
    }
}
