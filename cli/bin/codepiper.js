// The entry's name up to 0.1.0, which the units `daemon install` wrote then still name.
import './codepiper.cjs';
