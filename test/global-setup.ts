/**
 * Before any test: build the console's browser scripts (the server serves them from
 * dist/console-client, which `npm run build` makes for `npm start`).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(
    process.execPath,
    ['node_modules/typescript/bin/tsc', '-p', 'src/console/client/tsconfig.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}
