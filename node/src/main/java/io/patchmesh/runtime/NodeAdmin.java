package io.patchmesh.runtime;

import io.patchmesh.admin.AdminRouter;
import io.patchmesh.admin.AdminServer;
import io.patchmesh.admin.AdminServerConfig;
import io.patchmesh.admin.AdminToken;
import io.patchmesh.config.NodeConfig;
import io.patchmesh.errors.UserInputException;
import java.io.IOException;
import java.util.List;

/**
 * A node's admin API as it is brought up: its token (created in the data dir on first start), the
 * node's own routes and those added before start (the seed's), and the listening server.
 */
record NodeAdmin(AdminToken token, AdminServer server) {

  static NodeAdmin start(NodeConfig config, NodeRuntime node, List<NodeRuntime.AdminRouterHook> hooks) {
    AdminToken token;
    try {
      token = AdminToken.loadOrCreate(config.dataDir());
    } catch (IOException e) {
      throw new UserInputException(config.dataDir() + ": cannot write admin.token: " + e.getMessage());
    }
    AdminRouter router = new AdminRouter();
    NodeApi.addRoutes(router, node);
    for (NodeRuntime.AdminRouterHook h : hooks) {
      h.addRoutes(router);
    }
    return new NodeAdmin(token, new AdminServer(AdminServerConfig.parse(config.admin()), token, router).start());
  }
}
