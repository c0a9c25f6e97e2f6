import { Fragment } from 'react';

/**
 * A path or a title with a path in it, allowed to wrap after each "/" (a <wbr>, which a copy leaves out) rather than
 * in the middle of a folder's name: "/home/ann/Projects" breaks as "/home/ann/" + "Projects", not "Projec" + "ts".
 */
export function SlashBreaks({ text }: { text: string }) {
  const parts = text.split('/');
  return (
    <>
      {parts.map((part, i) => (
        <Fragment key={i}>
          {part}
          {i < parts.length - 1 && (
            <>
              /<wbr />
            </>
          )}
        </Fragment>
      ))}
    </>
  );
}
