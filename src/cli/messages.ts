// Lines on stderr: results, warnings and hints, each prefixed with "knnet: ".
export const say = (text: string) => void process.stderr.write(`knnet: ${text}\n`);
