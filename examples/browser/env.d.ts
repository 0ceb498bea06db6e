// Vite's `?raw` suffix imports a file's text.
declare module '*.csv?raw' {
  const text: string;
  export default text;
}
