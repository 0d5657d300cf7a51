/**
 * The agents' command schema, shared by the agents' handlers and the Manager (in the manner of the MCP
 * Java SDK's {@code McpSchema}). One package per command family ({@code firewall}, {@code deploy},
 * {@code lxc}, {@code host}); in each, one {@code XxxSchema} class holds every command's name as a
 * constant and its request and result as public records. Rules for the records:
 * <ul>
 *   <li>{@code @JsonIgnoreProperties(ignoreUnknown = true)}, so an older peer reads a newer frame;</li>
 *   <li>invariants in the compact constructor, failing with {@code invalid_data} naming the field
 *       ({@link dev.hostdeploy.protocol.Validation});</li>
 *   <li>new fields are appended and nullable, never inserted or made required;</li>
 *   <li>secrets stay out of {@code toString}.</li>
 * </ul>
 * This module knows the protocol (for its error types) and nothing of the programs above it.
 */
package dev.hostdeploy.schema;
