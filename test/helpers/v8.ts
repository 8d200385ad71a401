// Whether two objects share V8's hidden class (map). The dashboard's hot loops read 5,000
// samples and records a tick; objects of one kind made with different shapes (a spread
// copy beside a literal) made V8 deoptimise and recompile that code a few times a tick.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

export function sameHiddenClass(a: object, b: object): boolean {
  return haveSameMap(a, b);
}
