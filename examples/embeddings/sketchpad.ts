// A canvas to draw on with the mouse, a pen or a finger; `onChange` runs after every stroke segment.

export class Sketchpad {
  readonly canvas: HTMLCanvasElement;
  colour = '#222222';
  #context: CanvasRenderingContext2D;
  #last: { x: number; y: number } | undefined;

  constructor(canvas: HTMLCanvasElement, onChange: () => void) {
    this.canvas = canvas;
    this.#context = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener('pointerdown', (event) => {
      canvas.setPointerCapture(event.pointerId);
      this.#last = this.#point(event);
      this.#segment(this.#last, this.#last);
      onChange();
    });
    canvas.addEventListener('pointermove', (event) => {
      if (!this.#last) return;
      const next = this.#point(event);
      this.#segment(this.#last, next);
      this.#last = next;
      onChange();
    });
    const end = () => (this.#last = undefined);
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  clear(): void {
    this.#context.fillStyle = '#ffffff';
    this.#context.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  image(): ImageData {
    return this.#context.getImageData(0, 0, this.canvas.width, this.canvas.height);
  }

  /** The event's position in canvas pixels (the canvas may be displayed at another size). */
  #point(event: PointerEvent): { x: number; y: number } {
    const box = this.canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * this.canvas.width) / box.width,
      y: ((event.clientY - box.top) * this.canvas.height) / box.height,
    };
  }

  #segment(from: { x: number; y: number }, to: { x: number; y: number }): void {
    const context = this.#context;
    context.strokeStyle = this.colour;
    context.lineWidth = this.canvas.width / 22;
    context.lineCap = 'round';
    context.lineJoin = 'round';
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
  }
}
