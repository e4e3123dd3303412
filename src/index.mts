// The ES module entry of eventfold: the CommonJS build's exports, re-exported,
// so import and require share one copy of every class (instanceof works across both).
export * from './index.js';
