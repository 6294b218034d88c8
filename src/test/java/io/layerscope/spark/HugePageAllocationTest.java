package io.layerscope.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.Device;
import java.lang.management.ManagementFactory;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class HugePageAllocationTest {
    @Test
    void onFromAThousandAndTwentyFourTokensPerForward() {
        assertEquals("0", HugePageAllocation.setting(256, 1, false, false));
        assertEquals("0", HugePageAllocation.setting(1023, 1, false, false));
        assertEquals("1", HugePageAllocation.setting(1024, 1, false, false));
        assertEquals("1", HugePageAllocation.setting(2048, 1, false, false));
        // --gram: on whatever the windows (each sequence's Gram product is mapped afresh)
        assertEquals("1", HugePageAllocation.setting(256, 1, true, false));
        assertEquals("1", HugePageAllocation.setting(256, 4, false, false));
        assertEquals("1", HugePageAllocation.setting(65536, 65536, false, false));   // no int overflow
    }

    @Test
    void offWhateverTheJobWhereTheBalloonReportsFreePages() {
        assertEquals("0", HugePageAllocation.setting(2048, 1, false, true));
        assertEquals("0", HugePageAllocation.setting(256, 1, true, true));
        assertEquals("0", HugePageAllocation.setting(65536, 65536, true, true));
    }

    @Test
    void thisMachinesRuleIsTheDetectedOne() {
        boolean reports = FreePageReporting.here();
        assertEquals(HugePageAllocation.setting(2048, 1, false, reports), HugePageAllocation.setting(2048, 1));
        assertEquals(HugePageAllocation.setting(256, 1, true, reports), HugePageAllocation.setting(256, 1, true));
        assertEquals("0", HugePageAllocation.setting(256, 1));
    }

    @Test
    void executorsGetTheSettingUnlessTheJobSetsIt() {
        SparkConf longWindows = new SparkConf(false);
        HugePageAllocation.setExecutorEnv(longWindows, "1");
        assertEquals("1", longWindows.get("spark.executorEnv.THP_MEM_ALLOC_ENABLE"));
        SparkConf shortWindows = new SparkConf(false);
        HugePageAllocation.setExecutorEnv(shortWindows, "0");
        assertEquals("0", shortWindows.get("spark.executorEnv.THP_MEM_ALLOC_ENABLE"));
        SparkConf user = new SparkConf(false).set("spark.executorEnv.THP_MEM_ALLOC_ENABLE", "1");
        HugePageAllocation.setExecutorEnv(user, "0");
        assertEquals("1", user.get("spark.executorEnv.THP_MEM_ALLOC_ENABLE"));
        // the rule's setting is marked as such, so that an executor's machine may turn it off; the user's is not
        assertEquals("1", longWindows.get("spark.executorEnv.LAYERSCOPE_HUGE_PAGES_BY_RULE"));
        assertEquals("1", shortWindows.get("spark.executorEnv.LAYERSCOPE_HUGE_PAGES_BY_RULE"));
        assertFalse(user.contains("spark.executorEnv.LAYERSCOPE_HUGE_PAGES_BY_RULE"));
    }

    @Test
    void theExecutorsSettingLeavesThisMachineOut() {
        for (boolean gram : new boolean[] {false, true}) {
            assertEquals(HugePageAllocation.setting(2048, 1, gram, false), HugePageAllocation.executorSetting(2048, 1, gram));
            assertEquals(HugePageAllocation.setting(256, 1, gram, false), HugePageAllocation.executorSetting(256, 1, gram));
        }
        assertEquals("1", HugePageAllocation.executorSetting(1024, 1, false));
        assertEquals("0", HugePageAllocation.executorSetting(1023, 1, false));
    }

    @Test
    void anExecutorWhoseBalloonReportsFreePagesTurnsTheRulesSettingOff() {
        for (String byRule : new String[] {"1", null}) {
            for (String setting : new String[] {"1", "0", null}) {
                for (boolean reports : new boolean[] {true, false}) {
                    boolean expected = "1".equals(byRule) && "1".equals(setting) && reports;
                    assertEquals(expected, HugePageAllocation.turnsOff(byRule, setting, () -> reports),
                            byRule + " " + setting + " " + reports);
                }
            }
        }
    }

    @Test
    void devicesSayWhenTheHeapIsInHugePages() {
        assertEquals(" (heap in transparent huge pages)", HugePageAllocation.heapNote(true));
        assertEquals("", HugePageAllocation.heapNote(false));
        // this JVM's own flag, read from its command line
        boolean flag = ManagementFactory.getRuntimeMXBean().getInputArguments().contains("-XX:+UseTransparentHugePages");
        assertEquals(HugePageAllocation.heapNote(flag), HugePageAllocation.heapNote());
    }

    @Test
    void devicesSayWhenLibtorchAllocatesInHugePages() {
        String madvise = "always [madvise] never\n";
        assertEquals(" (libtorch's large arrays in transparent huge pages)", HugePageAllocation.note(Device.cpu(), "1", madvise));
        assertEquals(" (libtorch's large arrays in transparent huge pages)",
                HugePageAllocation.note(Device.cpu(), "1", "[always] madvise never\n"));
        assertEquals(" (THP_MEM_ALLOC_ENABLE=1, but the kernel gives no transparent huge pages)",
                HugePageAllocation.note(Device.cpu(), "1", "always madvise [never]\n"));
        assertEquals(" (THP_MEM_ALLOC_ENABLE=1, but the kernel gives no transparent huge pages)",
                HugePageAllocation.note(Device.cpu(), "1", ""));
        assertEquals("", HugePageAllocation.note(Device.cpu(), "0", madvise));
        assertEquals("", HugePageAllocation.note(Device.cpu(), null, madvise));
        assertEquals("", HugePageAllocation.note(Device.gpu(0), "1", madvise));
    }
}
