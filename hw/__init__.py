"""xdecimate.hw"""
