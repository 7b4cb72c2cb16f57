package io.patchmesh.seed;

import io.patchmesh.content.ChunkParams;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.trust.SigningKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Everything a publish needs: inputs, what to call the patch, how long it is
 * valid, how to roll it out, how to cut it, what it is cut against and who
 * signs it.
 *
 * @param inputs files and directories (see {@code ManifestBuilder} for how they become paths)
 * @param channel e.g. {@code openssl/bookworm-amd64}
 * @param version strictly increasing per channel, >= 1
 * @param lifetime how long after creation the manifest stays valid
 * @param installCommand run by agents after assembly, "" = none
 * @param rollout targets, window, stages
 * @param chunkParams how to cut; null = the previous version's, else {@link ChunkParams#DEFAULT}
 * @param previous what this version is cut against ({@link PreviousVersion#NONE} if nothing)
 * @param keys signing keys; every one signs
 * @param writableModes group/world-writable inputs keep their mode, marked writable (else refused)
 * @param installTimeout the install command's timeout (zero: the agents' maximum)
 * @param fixes what the patch fixes (--fixes/--severity/--affects/--urgent); null or default = nothing said
 */
public record PublishSpec(
    List<Path> inputs,
    String channel,
    long version,
    Duration lifetime,
    String installCommand,
    RolloutPlan rollout,
    ChunkParams chunkParams,
    PreviousVersion previous,
    List<SigningKey> keys,
    boolean writableModes,
    Duration installTimeout,
    io.patchmesh.proto.FixNotice fixes) {

  /** Without writable modes, with the agents' maximum install timeout, saying nothing about fixes. */
  public PublishSpec(List<Path> inputs, String channel, long version, Duration lifetime, String installCommand,
      RolloutPlan rollout, ChunkParams chunkParams, PreviousVersion previous, List<SigningKey> keys) {
    this(inputs, channel, version, lifetime, installCommand, rollout, chunkParams, previous, keys, false, Duration.ZERO, null);
  }

  /** Longest channel name accepted: it appears in every status line and log. */
  public static final int MAX_CHANNEL_CHARS = 200;

  public PublishSpec {
    inputs = List.copyOf(inputs);
    keys = List.copyOf(keys);
    installCommand = installCommand == null ? "" : installCommand;
    Objects.requireNonNull(rollout);
    previous = previous == null ? PreviousVersion.NONE : previous;
    installTimeout = installTimeout == null ? Duration.ZERO : installTimeout;
    if (installTimeout.isNegative() || installTimeout.toSeconds() > 0xFFFF_FFFFL) {
      throw new UserInputException("--install-timeout: must be between 0 and " + 0xFFFF_FFFFL + " seconds");
    }
    fixes = fixes == null ? io.patchmesh.proto.FixNotice.getDefaultInstance() : fixes;
    if (inputs.isEmpty()) {
      throw new UserInputException("nothing to publish: give at least one FILE or DIR");
    }
    if (keys.isEmpty()) {
      throw new UserInputException("no signing key: give at least one --key");
    }
    checkChannel(channel);
    if (version < 1) {
      throw new UserInputException("--version " + version + ": must be at least 1");
    }
    if (lifetime == null || lifetime.isNegative() || lifetime.isZero()) {
      throw new UserInputException("--expires: the manifest lifetime must be positive");
    }
    if (installCommand.indexOf('\0') >= 0 || installCommand.length() > 4096) {
      throw new UserInputException("--install-cmd: at most 4096 characters, no NUL");
    }
  }

  private static void checkChannel(String channel) {
    if (channel == null || channel.isBlank()) {
      throw new UserInputException("--channel: must not be empty");
    }
    if (channel.length() > MAX_CHANNEL_CHARS) {
      throw new UserInputException("--channel: longer than " + MAX_CHANNEL_CHARS + " characters");
    }
    for (int i = 0; i < channel.length(); i++) {
      char c = channel.charAt(i);
      if (c <= ' ' || c == 0x7f || c == '*') {
        throw new UserInputException(
            "--channel '" + channel.replaceAll("\\p{Cntrl}", "?") + "': no spaces, control characters or '*' allowed");
      }
    }
  }
}
