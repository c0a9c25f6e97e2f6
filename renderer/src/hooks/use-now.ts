import { useEffect, useState } from 'react';

/** The time now (epoch ms), again every `everyMs`: relative times ("5 min ago") move on by themselves. */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
