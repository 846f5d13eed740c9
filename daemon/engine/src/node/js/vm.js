// node:vm: loads (jsonpath-plus imports it at the top of its Node build and uses it only
// for `eval: "native"`), but bolt's sandbox compiles no code in new contexts, so every
// function throws ERR_BOLT_SANDBOX.

import { refusing } from 'bolt:node/internal/errors';

const WHY = "compiles code in new contexts, which bolt's sandbox does not allow";

export const Script = refusing('vm.Script', WHY);
export const createContext = refusing('vm.createContext', WHY);
export const runInContext = refusing('vm.runInContext', WHY);
export const runInNewContext = refusing('vm.runInNewContext', WHY);
export const runInThisContext = refusing('vm.runInThisContext', WHY);
export const compileFunction = refusing('vm.compileFunction', WHY);
export const isContext = () => false;

export default {
  Script, createContext, runInContext, runInNewContext, runInThisContext, compileFunction, isContext,
};
