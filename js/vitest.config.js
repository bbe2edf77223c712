// vitest runs the widget's pure-logic tests in a jsdom document.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "jsdom",
    include: ["widget/test/**/*.test.{js,mjs}", "labextension/test/**/*.test.{js,mjs}"],
    // A missing test folder is not an error; an empty run is.
    passWithNoTests: false,
    reporters: ["default"],
  },
});
