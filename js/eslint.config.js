// ESLint for the widget bundle, the labextension and their tests.
// Formatting is prettier's job; eslint looks for mistakes.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/**", "**/lib/**", "**/static/**"] },
  js.configs.recommended,
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      "no-unused-vars": ["error", { argsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    files: ["scripts/**", "*.config.js", "eslint.config.js"],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ["**/test/**"],
    languageOptions: { globals: { ...globals.node } },
  },
];
