/**
 * What normalizing a config file needs besides the file: where it came from, the folder its
 * relative paths start at, the environment its `${VAR}`s expand from, and its server order.
 */
export interface NormalizeContext {
  /** Kept as `DirectorConfig.source`. */
  source: string;
  /** Relative `cwd` and `dataDir` resolve against this folder: the config file's. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  /**
   * Server ids in file order. Object key order puts integer-like keys ("1", "42") first, and
   * config order decides name clashes, so the order is taken from the parse tree.
   */
  serverOrder?: readonly string[] | undefined;
}
