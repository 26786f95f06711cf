#!/usr/bin/env node
require('../dist/codepiper.cjs');
