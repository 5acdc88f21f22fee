import { type Stats, unwatchFile, watchFile } from "node:fs";
import type { ConfigReloader } from "./reloader.js";

/** How often the files are checked. */
const WATCH_INTERVAL_MS = 1_000;
/** Files that change together (a Kubernetes ConfigMap's swap, an editor's save) make one reload. */
const SETTLE_MS = 200;

/**
 * Reloads when the config file or a file it names changes. The files are polled by stat, which sees a Kubernetes
 * ConfigMap's or Secret's symlink swap that an inotify watch on the old file would miss; after each reload the
 * watch follows the files the configuration now names. Returns what stops watching.
 */
export function reloadOnFileChange(reloader: ConfigReloader, intervalMs = WATCH_INTERVAL_MS): () => void {
  let watched: readonly string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const changed = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino) return;
    clearTimeout(timer);
    timer = setTimeout(reload, SETTLE_MS).unref();
  };
  const watch = (files: readonly string[]) => {
    for (const file of watched) if (!files.includes(file)) unwatchFile(file, changed);
    for (const file of files) {
      if (!watched.includes(file)) watchFile(file, { interval: intervalMs, persistent: false }, changed);
    }
    watched = files;
  };
  const reload = () => {
    void reloader.reload("config file changed").then(() => watch(reloader.config.files));
  };
  watch(reloader.config.files);
  return () => {
    clearTimeout(timer);
    watch([]);
  };
}
