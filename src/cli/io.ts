/** Streams and environment are injected so tests drive the CLI in-process. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** true when stderr is a terminal (progress lines redraw in place) */
  isTTY?: boolean;
  /** true when stdout is a terminal (colour in reports written there) */
  stdoutIsTTY?: boolean;
  /** standard input (`flat6 audit -`); default process.stdin */
  stdin?: AsyncIterable<Buffer | string>;
}

export function processIO(): CliIO {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    isTTY: process.stderr.isTTY,
    stdoutIsTTY: process.stdout.isTTY,
    stdin: process.stdin,
  };
}
