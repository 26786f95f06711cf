/**
 * A typed token for a service in the kernel's container. Plugins provide and
 * resolve services through these tokens, never through bare strings, so the
 * compiler checks what a service is wherever it is used.
 */
export interface ServiceRef<T> {
  readonly id: string;
  readonly description: string;
  /**
   * The version (MAJOR.MINOR.PATCH) of the feature contract the service
   * belongs to, as compiled into whoever holds this ref. A plugin using it
   * works with a provider of the same major version and at least its minor.
   */
  readonly contract: string;
  /** Phantom field: carries the service type; never set at runtime. */
  readonly __type?: T;
}

export function createServiceRef<T>(id: string, description: string, contract: string): ServiceRef<T> {
  if (!/^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)*$/.test(id)) {
    throw new Error(`service id "${id}" must be dotted camelCase, like "sessions.registry"`);
  }
  if (!/^\d+\.\d+\.\d+$/.test(contract)) throw new Error(`service "${id}": contract version "${contract}" must be MAJOR.MINOR.PATCH, like "1.0.0"`);
  return Object.freeze({ id, description, contract });
}

/** Any service's ref, whatever its type: what `provides` and `uses` list. */
export type AnyServiceRef = ServiceRef<unknown>;

export type ServiceType<R> = R extends ServiceRef<infer T> ? T : never;
