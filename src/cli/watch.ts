// Noticing that files the running config depends on have changed: the config file itself and the
// secret store. Directories are watched, not files: editors, Kubernetes config maps and the
// secret store all replace a file by rename, after which a watch on the old file never fires
// again. A config map swaps its `..data` symlink rather than touching the file's own name.
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export interface FileWatch {
  /** Watches exactly these files from now on (the secret store may move on reload). */
  update(files: string[]): void;
  close(): void;
}

/**
 * Calls `onChange` with the changed file once changes have paused for `debounceMs`. A directory
 * that cannot be watched is reported through `warn`; SIGHUP still reloads.
 */
export function watchFiles(
  files: string[],
  onChange: (file: string) => void,
  warn: (line: string) => void,
  debounceMs = 200,
): FileWatch {
  /** Directory → (name in it → the file as given). */
  let wanted = new Map<string, Map<string, string>>();
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;

  const fire = (dir: string, name: string | null) => {
    const names = wanted.get(dir);
    const file =
      name === null
        ? undefined
        : (names?.get(name) ?? (name === '..data' ? names?.values().next().value : undefined));
    if (file === undefined) return;
    clearTimeout(timer);
    timer = setTimeout(() => onChange(file), debounceMs);
  };

  const update = (next: string[]) => {
    wanted = new Map();
    for (const file of next) {
      const dir = dirname(resolve(file));
      if (!wanted.has(dir)) wanted.set(dir, new Map());
      wanted.get(dir)!.set(basename(file), file);
    }
    for (const [dir, watcher] of watchers) {
      if (wanted.has(dir)) continue;
      watcher.close();
      watchers.delete(dir);
    }
    for (const dir of wanted.keys()) {
      if (watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, (_event, name) => fire(dir, name));
        // A watched directory that is removed reports an error; without a listener it would
        // crash the gateway.
        watcher.on('error', (err: NodeJS.ErrnoException) => {
          warn(`stopped watching ${dir} (${err.code ?? err.message}); changes there need SIGHUP`);
          watcher.close();
          if (watchers.get(dir) === watcher) watchers.delete(dir);
        });
        watchers.set(dir, watcher);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        warn(
          `cannot watch ${dir} (${code}); changes to ${[...wanted.get(dir)!.values()].join(', ')} need SIGHUP`,
        );
      }
    }
  };

  update(files);
  return {
    update,
    close() {
      clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
