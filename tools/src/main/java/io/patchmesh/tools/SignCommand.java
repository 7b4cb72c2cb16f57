package io.patchmesh.tools;

import com.google.protobuf.InvalidProtocolBufferException;
import io.patchmesh.content.Bundle;
import io.patchmesh.content.BundleReader;
import io.patchmesh.content.BundleWriter;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.trust.ManifestSigner;
import io.patchmesh.trust.SigningKey;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "sign",
    description = {
      "Add a co-signature to a bundle's manifest.",
      "For publisher rules that need several keys. The manifest bytes are not",
      "changed; manifest.signed is replaced atomically."
    })
final class SignCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Option(names = "--key", required = true, paramLabel = "KEY.key", description = "private key to sign with (repeat)")
  List<Path> keys;

  @Parameters(paramLabel = "BUNDLE", description = "bundle directory written by publish")
  Path bundle;

  @Override
  public Integer call() throws IOException {
    List<SigningKey> signing = TrustCommand.readSigningKeys(keys);
    SignedManifest signed = BundleReader.open(bundle).readSignedManifest();
    Manifest m;
    try {
      m = Manifest.parseFrom(signed.getManifest());
    } catch (InvalidProtocolBufferException e) {
      // Signing bytes nobody can read would only vouch for garbage.
      throw new UserInputException(Bundle.manifestPath(bundle) + ": garbled, the manifest inside does not parse");
    }
    for (SigningKey k : signing) {
      signed = ManifestSigner.addSignature(signed, k);
    }
    new BundleWriter(bundle).writeSignedManifest(signed.toByteArray());
    PrintWriter o = spec.commandLine().getOut();
    o.printf("signed %s version %d in %s by %s; %d signature%s now%n",
        m.getChannel(), m.getVersion(), bundle,
        String.join(", ", signing.stream().map(k -> k.keyId().substring(0, 12)).toList()),
        signed.getSignaturesCount(), signed.getSignaturesCount() == 1 ? "" : "s");
    o.flush();
    return Main.OK;
  }
}
