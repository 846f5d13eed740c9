// node:timers/promises
import { promises } from 'node:timers';

export const { setTimeout, setImmediate, setInterval, scheduler } = promises;
export default promises;
