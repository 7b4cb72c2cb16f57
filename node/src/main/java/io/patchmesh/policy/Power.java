package io.patchmesh.policy;

/**
 * The machine's power source as last read.
 *
 * @param onBattery true if a battery supplies the machine (no mains or USB power online)
 * @param percent the batteries' charge 0-100, or -1 when there is no battery or it is unknown
 */
public record Power(boolean onBattery, int percent) {
  /** A machine without a battery (a desktop or server), or one whose supply could not be read. */
  public static final Power MAINS = new Power(false, -1);

  public Power {
    if (percent < -1 || percent > 100) {
      throw new IllegalArgumentException("battery percent " + percent + " outside -1..100");
    }
  }
}
