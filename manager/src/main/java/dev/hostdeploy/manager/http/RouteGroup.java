package dev.hostdeploy.manager.http;

import java.util.List;

/** A feature's routes; {@link HttpApi} registers every group's routes and documents them. */
public interface RouteGroup {
    List<Route> routes();
}
