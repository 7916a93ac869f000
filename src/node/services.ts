/**
 * Node services and their dependencies: a service factory may say what it provides
 * (`serviceCapabilities`, e.g. "@libp2p/identify") and what it needs (`serviceDependencies`,
 * capabilities or service names). The node checks them when it is created, builds and starts
 * services in dependency order and stops them in reverse. The capability strings are
 * js-libp2p's, so a js-libp2p user finds the same names.
 *
 * @module
 */

import { Libp2pError } from "../errors.ts";
import type { Libp2pNode } from "./node.ts";

/**
 * Builds a service from the node; the service may have start/stop hooks ({@link Startable}).
 * Optional properties declare what it provides and what it needs.
 *
 * @example
 * ```ts
 * import { defineService, type ServiceFactory } from "@p2p-edge/libp2p";
 * const kad: ServiceFactory<{ mode: string }> = defineService(() => ({ mode: "client" }), {
 *   capabilities: ["@libp2p/kad-dht"],
 *   dependencies: ["@libp2p/identify"],
 * });
 * ```
 */
export interface ServiceFactory<T> {
  /** Build the service (called once, when the node is created). */
  (node: Libp2pNode): T;
  /** What the service provides, e.g. "@libp2p/identify". Default none. */
  readonly serviceCapabilities?: readonly string[];
  /** Capabilities or service names it needs; the node fails to build without them. */
  readonly serviceDependencies?: readonly string[];
}

/** Optional lifecycle hooks of a service. */
export interface Startable {
  /** Called by node.start() after the listeners are up, dependencies first. */
  start?(): void | Promise<void>;
  /** Called by node.stop() before connections close, dependants first. */
  stop?(): void | Promise<void>;
}

/** Capability of the identify service (js-libp2p's name). */
export const IDENTIFY_CAPABILITY = "@libp2p/identify";

/**
 * A service's dependencies are missing, or they form a cycle. Thrown when the node is created.
 *
 * @example
 * ```ts
 * import { ServiceDependencyError } from "@p2p-edge/libp2p";
 * console.log(new ServiceDependencyError("kad needs @libp2p/identify").name);
 * ```
 */
export class ServiceDependencyError extends Libp2pError {}

/**
 * Attach capabilities and dependencies to a service factory.
 *
 * @example
 * ```ts
 * import { defineService } from "@p2p-edge/libp2p";
 * const hello = defineService(() => ({ hi: () => "hi" }), { dependencies: ["@libp2p/identify"] });
 * hello.serviceDependencies; // ["@libp2p/identify"]
 * ```
 */
export function defineService<T>(
  build: (node: Libp2pNode) => T,
  meta: { capabilities?: readonly string[]; dependencies?: readonly string[] },
): ServiceFactory<T> {
  const factory = (node: Libp2pNode): T => build(node);
  return Object.assign(factory, {
    serviceCapabilities: Object.freeze([...(meta.capabilities ?? [])]),
    serviceDependencies: Object.freeze([...(meta.dependencies ?? [])]),
  });
}

/**
 * The service names of `factories` in dependency order (each after what it needs; otherwise
 * in declaration order). A dependency is met by a service of that name or one that lists it
 * among its capabilities. Throws {@link ServiceDependencyError} for a missing dependency
 * (naming the service and what it needs) or a cycle (naming the cycle).
 *
 * @example
 * ```ts
 * import { defineService, orderServices } from "./services.ts";
 * const id = defineService(() => ({}), { capabilities: ["@libp2p/identify"] });
 * const kad = defineService(() => ({}), { dependencies: ["@libp2p/identify"] });
 * orderServices({ kad, identify: id }); // ["identify", "kad"]
 * ```
 */
export function orderServices(
  factories: Readonly<Record<string, ServiceFactory<unknown>>>,
): string[] {
  const names = Object.keys(factories);
  const providers = new Map<string, string[]>();
  const provide = (what: string, name: string): void => {
    const list = providers.get(what);
    if (list === undefined) providers.set(what, [name]);
    else if (!list.includes(name)) list.push(name);
  };
  for (const name of names) {
    const factory = factories[name];
    if (typeof factory !== "function") {
      throw new TypeError(`service ${name} is not a factory function`);
    }
    provide(name, name);
    for (const cap of factory.serviceCapabilities ?? []) provide(cap, name);
  }
  const needs = new Map<string, string[]>();
  for (const name of names) {
    const deps: string[] = [];
    for (const dep of factories[name].serviceDependencies ?? []) {
      const found = (providers.get(dep) ?? []).filter((p) => p !== name);
      if (found.length === 0) {
        throw new ServiceDependencyError(
          `service ${name} needs ${dep}, which no configured service provides ` +
            `(add a service that does, e.g. identify() for ${IDENTIFY_CAPABILITY})`,
        );
      }
      deps.push(...found);
    }
    needs.set(name, deps);
  }
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): void => {
    const s = state.get(name);
    if (s === "done") return;
    if (s === "visiting") {
      const cycle = [...path.slice(path.indexOf(name)), name].join(" -> ");
      throw new ServiceDependencyError(`service dependencies form a cycle: ${cycle}`);
    }
    state.set(name, "visiting");
    for (const dep of needs.get(name)!) visit(dep, [...path, name]);
    state.set(name, "done");
    order.push(name);
  };
  for (const name of names) visit(name, []);
  return order;
}
