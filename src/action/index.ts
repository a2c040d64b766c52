// The Action's entry (action.yml → dist/index.js): no logic here, see main.ts.
import { main } from "./main.ts";

await main();
