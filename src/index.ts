import { run } from './github/main.ts';

await run();
