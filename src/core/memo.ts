// A memo for a pure function whose distinct arguments are few (cgroup paths, the texts of
// /proc/PID/cgroup: thousands of processes share a handful). Emptied when it grows past
// `max`, so a host that keeps making new ones (containers coming and going) cannot grow it
// without end.
export function memoize<K, V>(fn: (key: K) => V, max = 4096): (key: K) => V {
  const cache = new Map<K, V>();
  return (key) => {
    if (cache.has(key)) return cache.get(key) as V;
    if (cache.size >= max) cache.clear();
    const value = fn(key);
    cache.set(key, value);
    return value;
  };
}
