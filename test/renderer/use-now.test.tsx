// @vitest-environment happy-dom
import { act, cleanup, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useNow } from '../../renderer/src/hooks/use-now.js';

function Clock({ label }: { label: string }) {
  const now = useNow();
  return <span data-testid={label}>{now}</span>;
}

/** The second clock mounts later, as a plan's details open after its card. */
function Later() {
  const [shown, setShown] = useState(false);
  return (
    <>
      <Clock label="card" />
      <button type="button" onClick={() => setShown(true)}>
        open
      </button>
      {shown && <Clock label="details" />}
    </>
  );
}

describe('useNow', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('gives every component the same moment, also one mounted between ticks, and moves on', () => {
    render(<Later />);
    expect(screen.getByTestId('card').textContent).toBe('1000000');
    act(() => vi.advanceTimersByTime(20_000));
    act(() => screen.getByText('open').click());
    expect(screen.getByTestId('details').textContent).toBe('1000000');
    act(() => vi.advanceTimersByTime(10_000));
    expect(screen.getByTestId('card').textContent).toBe('1030000');
    expect(screen.getByTestId('details').textContent).toBe('1030000');
  });

  it('reads the time afresh when nothing was ticking', () => {
    const first = render(<Clock label="a" />);
    first.unmount();
    act(() => vi.advanceTimersByTime(45_000));
    render(<Clock label="b" />);
    expect(screen.getByTestId('b').textContent).toBe('1045000');
  });
});
