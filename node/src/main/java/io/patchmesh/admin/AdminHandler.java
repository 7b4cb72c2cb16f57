package io.patchmesh.admin;

/** Answers one route. Runs on the admin worker pool, never on a Netty event loop. */
@FunctionalInterface
public interface AdminHandler {
  AdminResponse handle(AdminRequest request) throws Exception;
}
