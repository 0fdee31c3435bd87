"""Shipped, hand-written labelled corpora for the chatbot NLU and VOC classifiers."""
