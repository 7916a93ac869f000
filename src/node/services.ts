/**
 * Node services and their dependencies: a service factory may say what it provides
 * (`serviceCapabilities`, e.g. "@libp2p/identify") and what it needs (`serviceDependencies`,
 * capabilities or service names). The node checks them when it is created, builds and starts
 * services in dependency order and stops them in reverse. The capability strings are
 * js-libp2p's, so a js-libp2p user finds the same names. The factory type and `defineService`
 * live with the node (src/node/node.ts), which this file must not import (no import cycles).
 *
 * @module
 */

import { Libp2pError } from "../errors.ts";

/** What {@link orderServices} reads of a service factory: what it provides and what it needs. */
export interface ServiceMeta {
  /** What the service provides, e.g. "@libp2p/identify". */
  readonly serviceCapabilities?: readonly string[];
  /** Capabilities or service names it needs. */
  readonly serviceDependencies?: readonly string[];
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
 * The service names of `factories` in dependency order (each after what it needs; otherwise
 * in declaration order). A dependency is met by a service of that name or one that lists it
 * among its capabilities. Throws {@link ServiceDependencyError} for a missing dependency
 * (naming the service and what it needs) or a cycle (naming the cycle).
 *
 * @example
 * ```ts
 * import { defineService } from "./node.ts";
 * import { orderServices } from "./services.ts";
 * const id = defineService(() => ({}), { capabilities: ["@libp2p/identify"] });
 * const kad = defineService(() => ({}), { dependencies: ["@libp2p/identify"] });
 * orderServices({ kad, identify: id }); // ["identify", "kad"]
 * ```
 */
export function orderServices(
  factories: Readonly<Record<string, ServiceMeta & ((...args: never[]) => unknown)>>,
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
