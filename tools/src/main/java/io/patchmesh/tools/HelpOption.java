package io.patchmesh.tools;

import picocli.CommandLine.Option;

/** -h/--help for a subcommand (not the standard mixin: its -V/--version would clash with publish --version). */
final class HelpOption {
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
  boolean help;
}
