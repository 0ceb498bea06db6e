// The text of `knnet --help`.
export const USAGE = `Usage:
  knnet predict --train FILE --test FILE [options]   fit on the training file, predict the test file
  knnet fit --train FILE --save MODEL [options]      fit once and save the model in MODEL
  knnet predict --model MODEL --test FILE [options]  predict with a saved model
  knnet demo                                         run the Iris demo
  knnet --help | --version
The training file of fit and the test file of predict may also come last, without --train/--test.

Fitting (predict with --train, and fit):
  --train FILE        training CSV with a header line
  --target COLUMN     label column of the training file (default: the last column)
  --features A,B,...  use only these columns as features (default: all but the target)
  --drop A,B,...      leave these columns out of the features (ids, names, free text)
  --k N|all           number of neighbours (default 1)
  --weights MODE      uniform | distance | softmax (default uniform)
  --lambda X          softmax sharpness λ = 1/temperature (default 1; softmax weights only)
  --metric NAME       euclidean | cosine (1 − cos of L2-normalised rows) | manhattan |
                      dot (inner product x·X_i, largest first) (default euclidean)
  --standardize       rescale each feature to mean 0 and standard deviation 1, with the
                      training file's statistics (for training and test rows alike)
  --impute HOW        mean | median: fill empty feature fields with that statistic of the
                      training file's column
  --regression        predict the mean of a numeric target instead of a class
  --classify          keep a numeric target as classes even when it looks continuous
  --save MODEL        (fit) write the model there

Predicting:
  --test FILE         CSV of rows to predict: it needs the feature columns (matched by name,
                      in any order); a target column there is optional and only scored
  --model MODEL       a model saved by knnet fit, instead of --train and the fitting options
  --threads N|auto    threads to predict on (default auto: every core)
  --proba             also write one probability column per class, p_<class>
  --out FILE          write the CSV there instead of to stdout

The output CSV has one column named after the target, then the p_<class> columns.
Files are UTF-8. Numbers are decimal (12, -0.5, 3e-4); hexadecimal, Infinity and NaN are refused.
If the test file has the target column, the accuracy (or R²) on its labelled rows is
printed on stderr. Exit status: 0 done, 1 bad input or output, 2 bad command line.`;
