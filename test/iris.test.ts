// Acceptance: the article's Iris experiment (70/30 stratified split, seed 42, standardised).
import { describe, expect, it } from 'vitest';
import { KnnNetwork } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';
import { irisSplit, loadIris } from '../src/demo/iris.js';

describe('Iris acceptance', () => {
  const { train, test } = irisSplit();

  it('ships the 150-row UCI data and splits it 105/45, stratified', () => {
    expect(loadIris().X).toHaveLength(150);
    expect(train.X).toHaveLength(105);
    expect(test.X).toHaveLength(45);
    for (const species of ['setosa', 'versicolor', 'virginica']) expect(test.y.filter((y) => y === species)).toHaveLength(15);
  });

  it('1-NN accuracy ≥ 0.93 and k = 5 accuracy ≥ 0.95, matching the reference', async () => {
    for (const [options, floor] of [[{ k: 1 }, 0.93], [{ k: 5 }, 0.95], [{ k: 5, weights: 'distance' as const }, 0.95]] as const) {
      const network = await KnnNetwork.fit(train.X, train.y, options);
      const reference = await ReferenceNetwork.fit(train.X, train.y, options);
      const accuracy = network.score(test.X, test.y);
      expect(accuracy).toBeGreaterThanOrEqual(floor);
      expect(accuracy).toBe(reference.score(test.X, test.y));
      expect(network.predict(test.X)).toEqual(reference.predict(test.X));
      network.dispose();
    }
  });

  it('the full softmax network (k = all) classifies Iris well at λ = 1', async () => {
    const network = await KnnNetwork.fit(train.X, train.y, { k: 'all', weights: 'softmax', lambda: 1 });
    expect(network.score(test.X, test.y)).toBeGreaterThanOrEqual(0.93);
    expect(network.classes).toEqual(['setosa', 'versicolor', 'virginica']);
  });
});
