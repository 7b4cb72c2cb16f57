package io.patchmesh.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PowerSupplyReaderTest {
  @TempDir Path dir;

  private Power read(FakeSys sys) {
    return new PowerSupplyReader(sys.root.resolve("sys/class/power_supply")).read();
  }

  @Test
  void laptopUnpluggedIsOnBatteryWithItsCharge() {
    assertEquals(new Power(true, 34), read(new FakeSys(dir).mains(false).battery(34, "Discharging")));
  }

  @Test
  void laptopPluggedInIsOnMainsWhateverTheCharge() {
    assertEquals(new Power(false, 80), read(new FakeSys(dir).mains(true).battery(80, "Charging")));
  }

  @Test
  void usbPowerOnlineCountsAsPluggedIn() {
    FakeSys sys = new FakeSys(dir).supply("ucsi-source-psy-USBC000:001", "type", "USB", "online", "1").battery(50, "Charging");
    assertEquals(new Power(false, 50), read(sys));
  }

  @Test
  void withoutMainsEntryTheBatteryStatusDecides() {
    assertEquals(new Power(true, 20), read(new FakeSys(dir).battery(20, "Discharging")));
    FakeSys full = new FakeSys(dir.resolve("b")).battery(100, "Full");
    assertEquals(new Power(false, 100), read(full));
  }

  @Test
  void twoBatteriesGiveTheirMeanCharge() {
    FakeSys sys = new FakeSys(dir).mains(false).battery(40, "Discharging")
        .supply("BAT1", "type", "Battery", "capacity", "60", "status", "Discharging");
    assertEquals(new Power(true, 50), read(sys));
  }

  @Test
  void aMouseBatteryIsNotTheMachines() {
    FakeSys sys = new FakeSys(dir).supply("hidpp_battery_0", "type", "Battery", "scope", "Device", "capacity", "5",
        "status", "Discharging");
    assertEquals(Power.MAINS, read(sys));
  }

  @Test
  void desktopsAndMissingDirectoriesReadAsMains() {
    assertEquals(Power.MAINS, read(new FakeSys(dir)));
    assertEquals(Power.MAINS, read(new FakeSys(dir).mains(true)));
  }

  @Test
  void garbageCapacityCountsAsEmpty() {
    FakeSys sys = new FakeSys(dir).mains(false).supply("BAT0", "type", "Battery", "capacity", "lots", "status", "Discharging");
    assertEquals(new Power(true, 0), read(sys));
  }
}
