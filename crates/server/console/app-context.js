// What app.js lends the console's other modules (lines.js, notify.js,
// talks.js): the state and the shared helpers, filled in by app.js before it
// starts. Modules read it when they run, never when they load.

export const app = {};
