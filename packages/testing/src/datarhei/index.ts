// createDatarheiServer lives here (issue 4).
export {};
